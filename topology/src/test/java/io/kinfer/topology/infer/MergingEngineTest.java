package io.kinfer.topology.infer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.SumEngine;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class MergingEngineTest {
  private static final ModelVersion V1 = new ModelVersion("mlp", "1");

  /** SumEngine whose first call blocks until released, so other threads queue behind it. */
  private static final class GatedEngine implements InferenceEngine {
    final SumEngine sums = new SumEngine(V1);
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicBoolean first = new AtomicBoolean(true);
    volatile boolean failMerged;

    @Override
    public Set<ModelVersion> loaded() {
      return sums.loaded();
    }

    @Override
    public int maxBatchSize(ModelVersion version) {
      return sums.maxBatchSize(version);
    }

    @Override
    public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
      if (first.getAndSet(false)) {
        entered.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else if (failMerged) {
        throw new IllegalStateException("device lost");
      }
      return sums.infer(version, requests);
    }
  }

  private static InferenceRequest request(float value) {
    return InferenceRequest.newBuilder().setId("r" + value).setModel(V1.model())
        .setInputs(List.of(SumEngine.fp32("x", value))).build();
  }

  private static List<InferenceRequest> requests(float... values) {
    return IntStream.range(0, values.length).mapToObj(i -> request(values[i])).toList();
  }

  private static float sum(BatchResult.Outcome outcome) {
    return outcome.outputs().get(0).getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
  }

  @Test
  void batchesQueuedBehindARunningCallGoAsOneCallAndEachGetsItsOwnSlice() throws Exception {
    GatedEngine gated = new GatedEngine();
    MergingEngine merging = new MergingEngine(gated);
    var a = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(1, 2)));
    assertThat(gated.entered.await(10, TimeUnit.SECONDS)).isTrue();
    var b = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(10)));
    var c = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(20, 30)));
    await().atMost(10, TimeUnit.SECONDS).until(() -> merging.batches() == 3);

    gated.release.countDown();

    assertThat(a.get(10, TimeUnit.SECONDS).outcomes()).extracting(MergingEngineTest::sum).containsExactly(1f, 2f);
    assertThat(b.get(10, TimeUnit.SECONDS).outcomes()).extracting(MergingEngineTest::sum).containsExactly(10f);
    assertThat(c.get(10, TimeUnit.SECONDS).outcomes()).extracting(MergingEngineTest::sum).containsExactly(20f, 30f);
    assertThat(gated.sums.batchSizes).containsExactly(2, 3);
    assertThat(merging.engineCalls()).isEqualTo(2);
  }

  @Test
  void mergedCallsNeverExceedTheModelsMaxBatchSize() throws Exception {
    GatedEngine gated = new GatedEngine();
    gated.sums.maxBatch = 3;
    MergingEngine merging = new MergingEngine(gated);
    var a = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(1)));
    assertThat(gated.entered.await(10, TimeUnit.SECONDS)).isTrue();
    var b = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(10, 11)));
    await().atMost(10, TimeUnit.SECONDS).until(() -> merging.batches() == 2);
    var c = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(20, 21)));
    await().atMost(10, TimeUnit.SECONDS).until(() -> merging.batches() == 3);

    gated.release.countDown();

    assertThat(b.get(10, TimeUnit.SECONDS).outcomes()).extracting(MergingEngineTest::sum).containsExactly(10f, 11f);
    assertThat(c.get(10, TimeUnit.SECONDS).outcomes()).extracting(MergingEngineTest::sum).containsExactly(20f, 21f);
    assertThat(a.get(10, TimeUnit.SECONDS).outcomes()).hasSize(1);
    assertThat(gated.sums.batchSizes).containsExactly(1, 2, 2).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(3));
  }

  @Test
  void aFailingMergedCallFailsEveryBatchInIt() throws Exception {
    GatedEngine gated = new GatedEngine();
    gated.failMerged = true;
    MergingEngine merging = new MergingEngine(gated);
    var a = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(1)));
    assertThat(gated.entered.await(10, TimeUnit.SECONDS)).isTrue();
    var b = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(10)));
    var c = CompletableFuture.supplyAsync(() -> merging.infer(V1, requests(20)));
    await().atMost(10, TimeUnit.SECONDS).until(() -> merging.batches() == 3);

    gated.release.countDown();

    assertThat(a.get(10, TimeUnit.SECONDS).outcomes()).hasSize(1);
    for (var merged : List.of(b, c)) {
      assertThatThrownBy(() -> merged.get(10, TimeUnit.SECONDS)).hasRootCauseMessage("device lost");
    }
    assertThat(merging.engineCalls()).isEqualTo(2);
  }

  @Test
  void aLoneBatchIsPassedThroughUnchanged() {
    SumEngine sums = new SumEngine(V1);
    MergingEngine merging = new MergingEngine(sums);
    BatchResult result = merging.infer(V1, requests(3, 4, 5));
    assertThat(result.outcomes()).extracting(MergingEngineTest::sum).containsExactly(3f, 4f, 5f);
    assertThat(sums.batchSizes).containsExactly(3);
  }
}

package io.kinfer.topology.infer;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.SumEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FailureIsolationTest {
  private static final ModelVersion V1 = new ModelVersion("mlp", "1");
  private final List<Long> slept = new ArrayList<>();

  /** Throws for any batch that contains a request whose id starts with "poison", or always when down. */
  private static final class FlakyEngine implements InferenceEngine {
    final SumEngine sums = new SumEngine(V1);
    boolean down;
    int calls;

    @Override
    public Set<ModelVersion> loaded() {
      return sums.loaded();
    }

    @Override
    public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
      calls++;
      if (down || requests.stream().anyMatch(r -> r.getId().startsWith("poison"))) {
        throw new IllegalStateException(down ? "session closed" : "kernel crashed on a poison input");
      }
      return sums.infer(version, requests);
    }

    @Override
    public boolean probe(ModelVersion version) {
      return !down; // the known-good input fails only when the engine itself is down
    }
  }

  private static List<InferenceRequest> batch(int size, int... poisonAt) {
    List<InferenceRequest> out = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      boolean poison = false;
      for (int p : poisonAt) {
        poison |= p == i;
      }
      out.add(InferenceRequest.newBuilder().setId((poison ? "poison-" : "ok-") + i).setModel("mlp")
          .setInputs(List.of(SumEngine.fp32("x", i))).build());
    }
    return out;
  }

  @Test
  void shouldFailOnlyThePoisonRequestsOfABatch() {
    FlakyEngine engine = new FlakyEngine();
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100, 400}, slept::add);

    FailureIsolation.Isolated run = isolation.run(V1, batch(16, 3, 11));

    List<BatchResult.Outcome> outcomes = run.result().outcomes();
    for (int i = 0; i < 16; i++) {
      assertThat(outcomes.get(i).isOk()).as("request " + i).isEqualTo(i != 3 && i != 11);
    }
    assertThat(outcomes.get(3).error()).contains("kernel crashed on a poison input");
    assertThat(run.engineDown()).isFalse();
    assertThat(slept).as("poison is not an outage: no retries").isEmpty();
    assertThat(run.engineCalls()).isLessThan(16);
  }

  @Test
  void shouldRetryWithBackoffWhenTheEngineIsDownThenGiveUp() {
    FlakyEngine engine = new FlakyEngine();
    engine.down = true;
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100, 400}, slept::add);

    FailureIsolation.Isolated run = isolation.run(V1, batch(4));

    assertThat(run.engineDown()).isTrue();
    assertThat(slept).containsExactly(100L, 400L);
    assertThat(run.result().outcomes()).allSatisfy(o ->
        assertThat(o.error()).startsWith(FailureIsolation.ENGINE_FAILED).contains("session closed"));
  }

  @Test
  void shouldRecoverWhenTheEngineComesBackDuringTheBackoff() {
    FlakyEngine engine = new FlakyEngine();
    engine.down = true;
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100, 400}, ms -> {
      slept.add(ms);
      engine.down = false;
    });

    FailureIsolation.Isolated run = isolation.run(V1, batch(4));

    assertThat(run.engineDown()).isFalse();
    assertThat(slept).containsExactly(100L);
    assertThat(run.result().outcomes()).allMatch(BatchResult.Outcome::isOk);
  }

  @Test
  void shouldNotTakeOnePoisonRequestAloneForAnOutage() {
    FlakyEngine engine = new FlakyEngine();
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100, 400, 1600}, slept::add);

    FailureIsolation.Isolated run = isolation.run(V1, batch(1, 0));

    assertThat(run.engineDown()).as("the probe passed: poison, not an outage").isFalse();
    assertThat(slept).isEmpty();
    assertThat(run.result().outcomes().get(0).failure()).isEqualTo(BatchResult.Failure.ENGINE);
    assertThat(run.result().outcomes().get(0).error()).contains("kernel crashed on a poison input");
  }

  @Test
  void shouldNotTakeABatchOfPoisonAloneForAnOutageEither() {
    FlakyEngine engine = new FlakyEngine();
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100}, slept::add);

    FailureIsolation.Isolated run = isolation.run(V1, batch(3, 0, 1, 2));

    assertThat(run.engineDown()).isFalse();
    assertThat(slept).isEmpty();
    assertThat(run.result().outcomes()).allMatch(o -> o.failure() == BatchResult.Failure.ENGINE);
  }

  @Test
  void shouldBisectOutsideTheMergeSoRetriesNeverJoinAnotherThreadsBatch() {
    FlakyEngine base = new FlakyEngine();
    MergingEngine merging = new MergingEngine(base);
    FailureIsolation isolation = new FailureIsolation(merging, new long[] {100}, slept::add);

    FailureIsolation.Isolated run = isolation.run(V1, batch(8, 5));

    assertThat(merging.batches()).as("only the first, whole-batch call goes through the merge").isEqualTo(1);
    assertThat(base.calls).isEqualTo(run.engineCalls()).isGreaterThan(1);
    assertThat(run.result().outcomes().stream().filter(BatchResult.Outcome::isOk).count()).isEqualTo(7);
  }
}

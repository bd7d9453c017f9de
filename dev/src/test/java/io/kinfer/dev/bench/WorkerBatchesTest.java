package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Timings;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Engine calls rebuilt from answers: complete groups kept, collisions and foreign or failed answers left out. */
class WorkerBatchesTest {
  private final RequestFactory factory = new RequestFactory("e2e", 7);

  @Test
  void shouldRebuildEachCompleteEngineCallAndDropAmbiguousOnes() {
    WorkerBatches batches = new WorkerBatches(factory);
    // Call A: 3 rows, 900 us. Call B: 2 rows, 500 us, answered in another order.
    answer(batches, 5, "w1", 3, 900, Status.OK);
    answer(batches, 2, "w1", 3, 900, Status.OK);
    answer(batches, 9, "w1", 2, 500, Status.OK);
    answer(batches, 7, "w1", 3, 900, Status.OK);
    answer(batches, 8, "w1", 2, 500, Status.OK);
    // Two calls of 2 rows that took the same time on the same worker: 4 answers, not one call.
    for (int i = 20; i < 24; i++) {
      answer(batches, i, "w1", 2, 700, Status.OK);
    }
    // The same size and time on another worker is another call.
    answer(batches, 30, "w2", 1, 900, Status.OK);
    answer(batches, 31, "w1", 1, 100, Status.ERROR);
    batches.accept(response("other-1", "w1", 1, 100, Status.OK));

    assertThat(batches.batches()).containsExactly(new long[] {2, 5, 7}, new long[] {8, 9}, new long[] {30});
    assertThat(batches.coverage()).isEqualTo(6.0 / 10);
  }

  private void answer(WorkerBatches batches, long index, String worker, int size, long micros, Status status) {
    batches.accept(response(factory.id(index), worker, size, micros, status));
  }

  private static InferenceResponse response(String id, String worker, int size, long micros, Status status) {
    return InferenceResponse.newBuilder().setId(id).setModel("mlp").setStatus(status).setOutputs(List.of())
        .setWorker(worker).setTimings(Timings.newBuilder().setRequestTimestamp(Instant.EPOCH).setQueueWaitMicros(0)
            .setInferenceMicros(micros).setBatchSize(size).build()).build();
  }
}

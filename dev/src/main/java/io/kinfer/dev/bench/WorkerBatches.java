package io.kinfer.dev.bench;

import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.InferenceEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The batches a worker really formed, rebuilt from its answers: the answers of one engine call
 * share the worker, the batch size and the batch's engine time (to the microsecond). A group whose
 * count is not its batch size is two calls that collided (or an incomplete one) and is left out.
 * With them, the engine alone can be timed on exactly the batches the worker ran: the end-to-end
 * rate over that rate is what Kafka, Streams and batching cost, whatever the batches' quality.
 */
final class WorkerBatches implements Consumer<InferenceResponse> {
  private record Call(String worker, int size, long inferenceMicros) {}

  private final RequestFactory factory;
  private final Map<Call, List<Long>> calls = new HashMap<>();
  private long answers;

  WorkerBatches(RequestFactory factory) {
    this.factory = factory;
  }

  @Override
  public synchronized void accept(InferenceResponse r) {
    long index = factory.index(r.getId());
    if (r.getStatus() != Status.OK || index < 0) {
      return;
    }
    answers++;
    calls.computeIfAbsent(new Call(String.valueOf(r.getWorker()), r.getTimings().getBatchSize(),
        r.getTimings().getInferenceMicros()), c -> new ArrayList<>()).add(index);
  }

  /** Request indexes of every complete, unambiguous engine call. */
  synchronized List<long[]> batches() {
    List<long[]> out = new ArrayList<>();
    calls.forEach((call, indexes) -> {
      if (indexes.size() == call.size()) {
        long[] batch = indexes.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(batch);
        out.add(batch);
      }
    });
    out.sort((a, b) -> Long.compare(a[0], b[0]));
    return out;
  }

  /** Share of the OK answers whose engine call was rebuilt. */
  synchronized double coverage() {
    return answers == 0 ? 0 : (double) batches().stream().mapToLong(b -> b.length).sum() / answers;
  }

  /**
   * Requests per second of {@code engine} alone on {@code batches} (rebuilt from the factory), the
   * median of {@code rounds} passes after one unmeasured pass (first calls at new shapes allocate).
   */
  static double engineRate(InferenceEngine engine, ModelVersion version, RequestFactory factory, List<long[]> batches,
      int rounds) throws Exception {
    List<List<InferenceRequest>> requests = new ArrayList<>(batches.size());
    long rows = 0;
    for (long[] batch : batches) {
      List<InferenceRequest> b = new ArrayList<>(batch.length);
      for (long index : batch) {
        b.add(factory.request(index));
      }
      requests.add(b);
      rows += batch.length;
    }
    double seconds = medianSeconds(rounds, () -> requests.forEach(b -> engine.infer(version, b)));
    return rows / seconds;
  }

  /** One pass at each round's work. */
  interface Pass {
    void run() throws Exception;
  }

  /** The median seconds of {@code rounds} passes, after one unmeasured pass (first calls at new shapes allocate). */
  static double medianSeconds(int rounds, Pass pass) throws Exception {
    double[] seconds = new double[rounds];
    for (int round = -1; round < rounds; round++) {
      long t0 = System.nanoTime();
      pass.run();
      if (round >= 0) {
        seconds[round] = (System.nanoTime() - t0) / 1e9;
      }
    }
    Arrays.sort(seconds);
    return seconds[rounds / 2];
  }
}

package io.kinfer.topology.infer;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult.Outcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Runs a batch so that one poison request cannot fail its neighbours: when the engine throws for a
 * batch, the batch is split in halves and each half retried, down to single requests, which then
 * fail alone. The halves run on the engine without cross-thread merging, so a retry is never merged
 * with another thread's healthy requests. When every request of the batch failed in the engine, a
 * known-good input is run ({@link InferenceEngine#probe}): if it passes, the requests were poison
 * (answered ERROR at once, the partition does not stall); if it fails too, the engine is down and
 * the batch is retried with backoff before its requests are answered ERROR.
 */
public final class FailureIsolation {
  private final InferenceEngine engine;
  private final long[] backoffMs;
  private final LongConsumer sleeper;

  /**
   * @param backoffMs waits before each retry of a batch that failed entirely
   * @param sleeper how to wait (injected so tests need not sleep)
   */
  public FailureIsolation(InferenceEngine engine, long[] backoffMs, LongConsumer sleeper) {
    this.engine = engine;
    this.backoffMs = backoffMs.clone();
    this.sleeper = sleeper;
  }

  public static LongConsumer threadSleep() {
    return ms -> {
      try {
        TimeUnit.MILLISECONDS.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  /** Result of an isolated run: outcomes in request order, and whether the engine looked down. */
  public record Isolated(BatchResult result, boolean engineDown, int engineCalls) {}

  public Isolated run(ModelVersion version, List<InferenceRequest> requests) {
    for (int attempt = 0; ; attempt++) {
      Outcome[] outcomes = new Outcome[requests.size()];
      long start = System.nanoTime();
      int[] calls = {0};
      bisect(version, requests, 0, outcomes, calls);
      BatchResult result = new BatchResult(Arrays.asList(outcomes), System.nanoTime() - start);
      // Every request failing by an engine exception (not a validation error) means the engine is
      // down, not that they are all poison: retry the batch after a pause.
      boolean engineDown = Arrays.stream(outcomes).allMatch(o -> o.failure() == BatchResult.Failure.ENGINE)
          && !engine.unmerged().probe(version);
      if (!engineDown || attempt >= backoffMs.length) {
        return new Isolated(result, engineDown, calls[0]);
      }
      sleeper.accept(backoffMs[attempt]);
    }
  }

  public static final String ENGINE_FAILED = "Inference engine failed: ";

  private void bisect(ModelVersion version, List<InferenceRequest> part, int offset, Outcome[] out, int[] calls) {
    InferenceEngine target = calls[0] == 0 ? engine : engine.unmerged();
    calls[0]++;
    try {
      List<Outcome> got = target.infer(version, part).outcomes();
      for (int i = 0; i < got.size(); i++) {
        out[offset + i] = got.get(i);
      }
    } catch (RuntimeException e) {
      if (part.size() == 1) {
        out[offset] = Outcome.engineFailed(ENGINE_FAILED + e.getMessage());
        return;
      }
      int half = part.size() / 2;
      bisect(version, new ArrayList<>(part.subList(0, half)), offset, out, calls);
      bisect(version, new ArrayList<>(part.subList(half, part.size())), offset + half, out, calls);
    }
  }
}

package io.kinfer.topology.batch;

import io.kinfer.topology.ModelVersion;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Batch size and wait adjusted at run time to keep each request's time in the worker (waiting in
 * the batcher plus its batch's inference) under a target, as Clipper's AIMD does: after a batch
 * that met the target and was full, the size cap grows by a step; after one that missed it, the
 * cap shrinks by a factor. The wait is what the target leaves once a batch of the current cap has
 * run (from the measured time per row). Bounded by the configured (or plan's) size and wait, which
 * stay the hard limits. One instance serves every stream thread.
 */
public final class AdaptiveBatching {
  /** Multiplicative decrease on a missed target. */
  static final double DECREASE = 0.75;
  /** Margin for the batcher's check interval and the infer step's own work. */
  static final long MARGIN_MS = 2;

  private final long targetMs;
  private final int step;
  private final Map<ModelVersion, State> states = new ConcurrentHashMap<>();

  /** @param targetMs 0 = off: the configured size and wait are used as they are */
  public AdaptiveBatching(long targetMs, int step) {
    this.targetMs = targetMs;
    this.step = step;
  }

  public static AdaptiveBatching off() {
    return new AdaptiveBatching(0, 1);
  }

  public boolean enabled() {
    return targetMs > 0;
  }

  /** The policy to apply now: {@code configured} narrowed to the current cap and wait. */
  public BatchPolicy limit(ModelVersion version, BatchPolicy configured) {
    if (!enabled()) {
      return configured;
    }
    State s = states.computeIfAbsent(version, v -> new State(configured.maxBatchSize()));
    synchronized (s) {
      s.cap = Math.min(s.cap, configured.maxBatchSize());
      return configured.with(s.cap, Math.min(configured.maxWaitMs(), s.waitMs(targetMs, configured.maxWaitMs())));
    }
  }

  /**
   * What one batch cost.
   *
   * @param oldestWaitMs how long its oldest request waited in the batcher
   */
  public void observe(ModelVersion version, int size, double oldestWaitMs, double inferenceMs) {
    if (!enabled() || size == 0) {
      return;
    }
    State s = states.get(version);
    if (s == null) {
      return; // not batched under a limit yet
    }
    synchronized (s) {
      s.msPerRow = s.msPerRow == 0 ? inferenceMs / size : s.msPerRow + 0.2 * (inferenceMs / size - s.msPerRow);
      if (oldestWaitMs + inferenceMs > targetMs) {
        s.cap = Math.max(1, (int) Math.floor(s.cap * DECREASE));
      } else if (size >= s.cap) {
        s.cap += step; // the cap was what ended the batch: try a bigger one (the configured size still bounds it)
      }
    }
  }

  private static final class State {
    int cap;
    double msPerRow;

    State(int cap) {
      this.cap = cap;
    }

    /** The target minus a full batch's expected inference and a margin; never below zero. */
    long waitMs(long targetMs, long configuredWait) {
      if (msPerRow == 0) {
        return configuredWait;
      }
      return Math.max(0, (long) Math.floor(targetMs - cap * msPerRow - MARGIN_MS));
    }
  }
}

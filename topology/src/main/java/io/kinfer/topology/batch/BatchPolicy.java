package io.kinfer.topology.batch;

/**
 * The whole batching decision, as a pure function (as Triton's dynamic batcher does): given what
 * is buffered for one model version, dispatch now or wait. No Kafka, no clock: tested alone.
 */
public final class BatchPolicy {
  /** Returned when there is nothing to wait for. */
  public static final long IDLE = Long.MAX_VALUE;
  /** Marks "no deadline" in {@link #decide}. */
  public static final long NO_DEADLINE = Long.MAX_VALUE;

  private final int maxBatchSize;
  private final long maxWaitMs;
  private final long checkIntervalMs;
  private final long maxBatchElements;

  /**
   * @param checkIntervalMs how often the caller re-checks; a deadline is met only if the batch is
   *     dispatched at least this long before the last moment, since the next check may be too late
   */
  public BatchPolicy(int maxBatchSize, long maxWaitMs, long checkIntervalMs) {
    this(maxBatchSize, maxWaitMs, checkIntervalMs, 0);
  }

  /**
   * @param maxBatchElements budget of padded elements per batch (rows x the longest row, as Hugging
   *     Face TEI's max_batch_tokens); 0 for none
   */
  public BatchPolicy(int maxBatchSize, long maxWaitMs, long checkIntervalMs, long maxBatchElements) {
    this.maxBatchSize = maxBatchSize;
    this.maxWaitMs = maxWaitMs;
    this.checkIntervalMs = checkIntervalMs;
    this.maxBatchElements = maxBatchElements;
  }

  /** The padded-element budget of one batch; {@link Long#MAX_VALUE} when there is none. */
  public long maxBatchElements() {
    return maxBatchElements > 0 ? maxBatchElements : Long.MAX_VALUE;
  }

  public int maxBatchSize() {
    return maxBatchSize;
  }

  public long maxWaitMs() {
    return maxWaitMs;
  }

  /** A copy with the given bounds replaced (null keeps the current one). */
  public BatchPolicy with(Integer newMaxBatchSize, Long newMaxWaitMs) {
    return new BatchPolicy(newMaxBatchSize == null ? maxBatchSize : newMaxBatchSize,
        newMaxWaitMs == null ? maxWaitMs : newMaxWaitMs, checkIntervalMs, maxBatchElements);
  }

  /**
   * @param buffered requests waiting
   * @param oldestEnqueuedMs when the oldest of them was buffered
   * @param earliestDeadlineMs the nearest request deadline, or {@link #NO_DEADLINE}
   * @param expectedInferenceMs how long a batch is expected to take (recent measurement)
   * @return 0 to dispatch now, otherwise how many ms may pass before dispatch is due
   */
  public long decide(int buffered, long oldestEnqueuedMs, long earliestDeadlineMs, long nowMs,
      long expectedInferenceMs) {
    return decide(buffered, buffered >= maxBatchSize, oldestEnqueuedMs, earliestDeadlineMs, nowMs, expectedInferenceMs);
  }

  /**
   * As {@link #decide(int, long, long, long, long)}, with what counts as a full batch decided by the
   * caller (size, element budget, or the look-ahead of length-aware batching).
   *
   * @param full enough is waiting to dispatch now
   */
  public long decide(int buffered, boolean full, long oldestEnqueuedMs, long earliestDeadlineMs, long nowMs,
      long expectedInferenceMs) {
    if (buffered == 0) {
      return IDLE;
    }
    if (full) {
      return 0;
    }
    long untilMaxWait = oldestEnqueuedMs + maxWaitMs - nowMs;
    long untilDeadline = earliestDeadlineMs == NO_DEADLINE
        ? IDLE : earliestDeadlineMs - expectedInferenceMs - checkIntervalMs - nowMs;
    return Math.max(0, Math.min(untilMaxWait, untilDeadline));
  }
}

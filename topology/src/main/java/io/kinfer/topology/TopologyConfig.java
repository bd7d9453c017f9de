package io.kinfer.topology;

import java.time.Duration;

/**
 * Typed settings of the topology, parsed once by the worker's config (where keys, docs and
 * defaults live).
 *
 * @param maxBatchSize flush a batch when it holds this many requests
 * @param maxWait flush a batch when its oldest request has waited this long
 * @param maxBufferedRequests per task; above it new requests are answered REJECTED
 * @param workerId written into every response
 * @param engineRetryBackoffMs pauses before retrying a batch the engine failed entirely
 * @param maxBatchElements padded-element budget of one batch (rows x longest row); 0 for none
 */
public record TopologyConfig(Topics topics, int maxBatchSize, Duration maxWait,
    int maxBufferedRequests, String workerId, long[] engineRetryBackoffMs, long latencyTargetMs,
    long maxBatchElements) {

  public TopologyConfig(Topics topics, int maxBatchSize, Duration maxWait, int maxBufferedRequests, String workerId,
      long[] engineRetryBackoffMs, long latencyTargetMs) {
    this(topics, maxBatchSize, maxWait, maxBufferedRequests, workerId, engineRetryBackoffMs, latencyTargetMs, 0);
  }

  /** Waits before retrying a batch the engine failed entirely; then its requests are answered ERROR. */
  public static final long[] DEFAULT_ENGINE_RETRY_BACKOFF_MS = {100, 400, 1600};

  public TopologyConfig(Topics topics, int maxBatchSize, Duration maxWait, int maxBufferedRequests, String workerId) {
    this(topics, maxBatchSize, maxWait, maxBufferedRequests, workerId, DEFAULT_ENGINE_RETRY_BACKOFF_MS, 0);
  }

  public TopologyConfig(Topics topics, int maxBatchSize, Duration maxWait, int maxBufferedRequests, String workerId,
      long[] engineRetryBackoffMs) {
    this(topics, maxBatchSize, maxWait, maxBufferedRequests, workerId, engineRetryBackoffMs, 0);
  }

  public TopologyConfig {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, was " + maxBatchSize);
    }
    if (latencyTargetMs < 0) {
      throw new IllegalArgumentException("latencyTargetMs must be >= 0 (0 = fixed batching), was " + latencyTargetMs);
    }
    if (maxBatchElements < 0) {
      throw new IllegalArgumentException("maxBatchElements must be >= 0 (0 = no budget), was " + maxBatchElements);
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must be >= 0, was " + maxWait);
    }
  }

  /**
   * How often the batcher checks time bounds: a quarter of max wait, between 1 and 10 ms, so a
   * deadline or max wait is missed by at most that much (checking idle groups costs next to nothing).
   */
  public Duration punctuateInterval() {
    long ms = Math.max(1, Math.min(10, maxWait.toMillis() / 4));
    return Duration.ofMillis(ms);
  }
}

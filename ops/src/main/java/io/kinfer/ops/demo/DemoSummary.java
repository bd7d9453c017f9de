package io.kinfer.ops.demo;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/** What a demo run proved, as printed and as written to --summary-json. */
public record DemoSummary(
    @JsonProperty("requests") long requests,
    @JsonProperty("warmup_requests") long warmupRequests,
    @JsonProperty("predictions") long predictions,
    @JsonProperty("lost") long lost,
    @JsonProperty("duplicates") long duplicates,
    @JsonProperty("statuses") Map<String, Long> statuses,
    @JsonProperty("dead_letters") long deadLetters,
    @JsonProperty("throughput_rps") double throughputRps,
    @JsonProperty("latency_ms_p50") long latencyMsP50,
    @JsonProperty("latency_ms_p90") long latencyMsP90,
    @JsonProperty("latency_ms_p99") long latencyMsP99,
    @JsonProperty("latency_ms_max") long latencyMsMax,
    @JsonProperty("batch_size_mean") double batchSizeMean,
    @JsonProperty("elapsed_s") double elapsedS,
    @JsonProperty("max_batch_size") int maxBatchSize,
    @JsonProperty("max_wait_ms") long maxWaitMs) {

  public String toText() {
    return String.format("""
        ── summary ──────────────────────────────────────────────
          requests        %,d   (%,d of them warm-up, left out of latency and throughput)
          predictions     %,d   %s
          lost            %,d
          duplicates      %,d
          dead letters    %,d   (malformed records kept with their original bytes)
          throughput      %,.0f predictions/s   (measured phase)
          latency (ms)    p50 %d   p90 %d   p99 %d   max %d   (intended send → visible to read_committed)
          batch size      mean %.1f   (max.batch.size %d, max.wait.ms %d)
          elapsed         %.1f s
        """, requests, warmupRequests, predictions, statuses, lost, duplicates, deadLetters, throughputRps,
        latencyMsP50, latencyMsP90, latencyMsP99, latencyMsMax, batchSizeMean, maxBatchSize, maxWaitMs, elapsedS);
  }
}

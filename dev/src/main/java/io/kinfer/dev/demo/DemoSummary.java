package io.kinfer.dev.demo;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
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
    @JsonProperty("max_wait_ms") long maxWaitMs,
    @JsonProperty("rollout") List<Map<String, Object>> rollout,
    @JsonProperty("text") DemoText.Result text) {

  DemoSummary withText(DemoText.Result result) {
    return new DemoSummary(requests, warmupRequests, predictions, lost, duplicates, statuses, deadLetters, throughputRps,
        latencyMsP50, latencyMsP90, latencyMsP99, latencyMsMax, batchSizeMean, elapsedS, maxBatchSize, maxWaitMs,
        rollout, result);
  }

  @SuppressWarnings("unchecked")
  public String toText() {
    StringBuilder phases = new StringBuilder();
    for (Map<String, Object> phase : rollout) {
      StringBuilder shares = new StringBuilder();
      ((Map<String, Double>) phase.get("observed_share")).forEach((v, share) ->
          shares.append(String.format(" v%s %.1f%%", v, share * 100)));
      phases.append(String.format("    %-15s generation %-3s answered %,7d  observed%s%s%n", phase.get("phase"),
          phase.get("generation"), (Long) phase.get("answered"), shares,
          phase.get("shadow_top1_agreement") == null ? ""
              : String.format("  shadow top-1 agreement %.1f%%", (Double) phase.get("shadow_top1_agreement") * 100)));
    }
    return rolloutText(phases.toString()) + String.format("""
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
        latencyMsP50, latencyMsP90, latencyMsP99, latencyMsMax, batchSizeMean, maxBatchSize, maxWaitMs, elapsedS)
        + (text == null ? "" : text.toText());
  }

  private static String rolloutText(String phases) {
    return phases.isEmpty() ? "" : "── rollout (observed share of answers per plan) ──────────\n" + phases;
  }
}

package io.kinfer.dev.demo;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.kinfer.client.control.AutoCanary;
import io.kinfer.client.replay.Report;
import io.kinfer.evaluation.Gates;
import io.kinfer.evaluation.PairSummary;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.PackagedModels.MiniLm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The demo's text act: the real all-MiniLM-L6-v2 from its Maven package serves generated text
 * events as minilm:1 (FP32, strings in, normalised embeddings out); the publisher's INT8 build,
 * minilm:2, is auto-canaried with a full shadow and promoted only if its embeddings keep their
 * direction (cosine gates on the live comparisons).
 */
final class DemoText {
  static final String MODEL = PackagedModels.MINILM;
  static final String PRIMARY = "1";
  static final String CANDIDATE = "2";
  /**
   * The INT8 build keeps direction to about 0.98 at its 1st percentile (docs/BENCHMARKS.md), so
   * 0.97 promotes it; a broken quantization (or tokenizer) falls far below.
   */
  static final String GATES = "cosine_p1>=0.97,failed_rate<=0.001";
  static final double CANARY_PERCENT = 10;
  /** Rows per engine call: with a full shadow each batch runs twice, so smaller batches keep latency down. */
  static final int MAX_BATCH_SIZE = 16;

  /** What the text act proved, as printed and as written to --summary-json. */
  record Result(
      @JsonProperty("texts") long texts,
      @JsonProperty("predictions") long predictions,
      @JsonProperty("lost") long lost,
      @JsonProperty("duplicates") long duplicates,
      @JsonProperty("statuses") Map<String, Long> statuses,
      @JsonProperty("throughput_texts_per_s") double throughput,
      @JsonProperty("latency_ms_p50") long latencyMsP50,
      @JsonProperty("latency_ms_p99") long latencyMsP99,
      @JsonProperty("batch_size_mean") double batchSizeMean,
      @JsonProperty("canary_promoted") boolean promoted,
      @JsonProperty("canary_decision") String decision,
      @JsonProperty("cosine") Map<String, Double> cosine) {

    String toText() {
      return String.format("""
          ── text act: all-MiniLM-L6-v2, strings in, embeddings out ──
            texts           %,d   predictions %,d   %s
            lost            %,d
            duplicates      %,d
            throughput      %,.0f texts/s
            latency (ms)    p50 %d   p99 %d
            batch size      mean %.1f
            INT8 canary     %s (cosine vs FP32: mean %.4f  p1 %.4f  min %.4f; gates %s)
          """, texts, predictions, statuses, lost, duplicates, throughput, latencyMsP50, latencyMsP99, batchSizeMean,
          promoted ? "PROMOTED" : "ROLLED BACK", cosine.getOrDefault("cosine_mean", Double.NaN),
          cosine.getOrDefault("cosine_p1", Double.NaN), cosine.getOrDefault("cosine_min", Double.NaN), GATES);
    }
  }

  private DemoText() {}

  /** Imports both builds into the stack's model repository, each with its tokenizer and sha256s. */
  static void importModels(Path modelsDir) throws IOException {
    PackagedModels.importMiniLmText(MiniLm.FP32, modelsDir, MODEL, PRIMARY, MAX_BATCH_SIZE);
    PackagedModels.importMiniLmText(MiniLm.INT8, modelsDir, MODEL, CANDIDATE, MAX_BATCH_SIZE);
  }

  static AutoCanary.Settings canarySettings(long texts, long timeoutS) {
    // A third of the texts: enough comparisons for a 1st percentile, early enough that the
    // promoted INT8 build serves the rest.
    return new AutoCanary.Settings(CANARY_PERCENT, Gates.parse(GATES), Math.max(50, texts / 3),
        Duration.ofSeconds(timeoutS), 1e-3);
  }

  /** The gate metrics of the canary's comparison against the FP32 primary. */
  static Map<String, Double> cosine(Report report) {
    PairSummary c = report.comparisonWith(MODEL + ":" + PRIMARY);
    return c == null ? Map.of() : c.metrics();
  }
}

package io.kinfer.worker.http;

import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.MapperConfig;
import java.util.List;
import java.util.Map;

/**
 * How the pipeline's dotted Dropwizard names become Prometheus series with labels. One place, so
 * the Grafana dashboard and alert rules can be checked against it.
 */
public final class MetricNames {
  private MetricNames() {}

  /** With merge.batches: batches handed to the engine per engine call (1.0 = nothing merged). */
  public static final String ENGINE_BATCHES_PER_CALL = "kinfer.engine.batches.per.call";

  public static final List<MapperConfig> MAPPINGS = List.of(
      map("kinfer.requests.*", "kinfer_requests", "model"),
      map("kinfer.buffered.model.*", "kinfer_buffered_requests", "model"),
      map("kinfer.responses.*.*.*.*", "kinfer_responses", "status", "model", "version", "variant"),
      map("kinfer.latency.e2e.ms.*", "kinfer_e2e_latency_ms", "model"),
      map("kinfer.batch.size.*.*", "kinfer_batch_size", "model", "version"),
      map("kinfer.batch.limit.size.*.*", "kinfer_batch_limit_size", "model", "version"),
      map("kinfer.batch.limit.wait.ms.*.*", "kinfer_batch_limit_wait_ms", "model", "version"),
      map("kinfer.inference.*.*", "kinfer_inference_seconds", "model", "version"),
      map("kinfer.queue.wait.us.*.*", "kinfer_queue_wait_us", "model", "version"),
      map("kinfer.dead.letters.*", "kinfer_dead_letters", "stage"),
      map("kinfer.shadow.*.*.compared", "kinfer_shadow_compared", "model", "version"),
      map("kinfer.shadow.*.*.top1.agree", "kinfer_shadow_top1_agree", "model", "version"),
      map("kinfer.shadow.*.*.errors", "kinfer_shadow_errors", "model", "version"),
      map("kinfer.control.applied.*", "kinfer_control_applied", "model"),
      map("kinfer.control.rejected.*", "kinfer_control_rejected", "model"));

  public static CustomLabelMapper labelMapper() {
    return new CustomLabelMapper(MAPPINGS);
  }

  private static MapperConfig map(String match, String name, String... labels) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i < labels.length; i++) {
      out.put(labels[i], "${" + i + "}");
    }
    return new MapperConfig(match, name, out);
  }
}

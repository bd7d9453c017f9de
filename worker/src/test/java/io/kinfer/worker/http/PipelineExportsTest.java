package io.kinfer.worker.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Timings;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PipelineExportsTest {
  private final MetricRegistry metrics = new MetricRegistry();
  private final PipelineMetrics pipeline = new PipelineMetrics(metrics);

  private void traffic(String model, String version, String variant, Status status) {
    pipeline.request(model);
    pipeline.response(InferenceResponse.newBuilder().setId("r").setModel(model).setVersion(version)
        .setVariant(variant).setStatus(status).setOutputs(List.of())
        .setTimings(Timings.newBuilder().setRequestTimestamp(Instant.now()).setQueueWaitMicros(0).setInferenceMicros(0)
            .setBatchSize(1).build()).setWorker("w").build());
    ModelVersion mv = new ModelVersion(model, version);
    pipeline.batch(mv, 4, 1_000_000);
    pipeline.queueWait(mv, 250);
    pipeline.batchLimits(mv, 64, 5);
  }

  /** Every line parsed as Prometheus text: series to value. */
  private Map<String, Double> scrape() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new PipelineExports(metrics));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    Map<String, Double> series = new HashMap<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      assertThat(line).matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*})? \\S+");
      int split = line.lastIndexOf(' ');
      series.put(line.substring(0, split), Double.parseDouble(line.substring(split + 1)));
    }
    return series;
  }

  @Test
  void shouldScrapeEverySeriesDuringACanaryOfSeveralModelsAndVersions() throws Exception {
    traffic("mlp", "1", "PRIMARY", Status.OK);
    traffic("mlp", "2", "CANARY", Status.OK);
    traffic("mlp", "2", "CANARY", Status.ERROR);
    traffic("mlp", "1", "PINNED", Status.OK);
    traffic("sentiment.en", "1.2", "PRIMARY", Status.OK);

    Map<String, Double> series = scrape();

    assertThat(series).containsEntry("kinfer_batch_size_count{model=\"mlp\",version=\"1\"}", 2.0)
        .containsEntry("kinfer_batch_size_count{model=\"mlp\",version=\"2\"}", 2.0)
        .containsEntry("kinfer_batch_size_count{model=\"sentiment.en\",version=\"1.2\"}", 1.0)
        .containsEntry("kinfer_responses_total{model=\"mlp\",status=\"ERROR\",variant=\"CANARY\",version=\"2\"}", 1.0)
        .containsEntry("kinfer_responses_total{model=\"sentiment.en\",status=\"OK\",variant=\"PRIMARY\",version=\"1.2\"}",
            1.0)
        .containsEntry("kinfer_requests_total{model=\"mlp\"}", 4.0)
        .containsEntry("kinfer_requests_total{model=\"sentiment.en\"}", 1.0)
        .containsEntry("kinfer_batch_limit_size{model=\"sentiment.en\",version=\"1.2\"}", 64.0);
    assertThat(series.keySet()).as("no unlabelled series from a dotted name")
        .noneMatch(s -> s.split("\\{")[0].contains("sentiment"))
        .anyMatch(s -> s.startsWith("kinfer_inference_seconds_count{model=\"mlp\",version=\"2\"}"))
        .anyMatch(s -> s.startsWith("kinfer_queue_wait_us{model=\"mlp\",version=\"2\",quantile="));
  }
}

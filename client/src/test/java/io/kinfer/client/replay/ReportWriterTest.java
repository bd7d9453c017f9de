package io.kinfer.client.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.evaluation.Gates;
import io.kinfer.evaluation.PairStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A typed report written as report.json and drawn as report.html from that same document. */
class ReportWriterTest {
  @TempDir
  Path dir;

  @Test
  void shouldWriteTheTypedComparisonsAndVerdictsAsJsonAndDrawThem() throws Exception {
    PairStats stats = new PairStats("minilm:1", "minilm:2", 1e-6);
    for (int i = 0; i < 99; i++) {
      stats.record(i * 1_000L, 1e-4, null, 0.9995);
    }
    stats.record(0, 5e-2, null, 0.95);
    Report report = new Report("compare", null, 1.5, List.of(stats.summary()))
        .with("counts", Map.of("records", 100L));
    Gates.Report verdicts = report.gate(Gates.parse("cosine_p1>=0.99,top1_agreement>=0.9"));
    assertThat(verdicts.passed()).as("no top-1 in embeddings: that gate has nothing to pass on").isFalse();

    ReportWriter.write(dir, report);
    JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
    assertThat(json.at("/comparisons/0/candidate").asText()).isEqualTo("minilm:2");
    assertThat(json.at("/comparisons/0/cosine/compared").asLong()).isEqualTo(100);
    assertThat(json.at("/comparisons/0/metrics/top1_agreement").isNull()).as("NaN is written as null").isTrue();
    assertThat(json.at("/gates/0/gate").asText()).isEqualTo("cosine_p1>=0.99");
    assertThat(json.at("/gates/0/passed").asBoolean()).isTrue();
    assertThat(json.at("/gates/1/passed").asBoolean()).isFalse();
    assertThat(json.at("/gatesPassed").asBoolean()).isFalse();
    assertThat(json.at("/counts/records").asLong()).isEqualTo(100);
    assertThat(json.at("/comparisons/0").has("accuracy")).as("no labels: no accuracy section").isFalse();
    assertThat(json.at("/comparisons/0").has("confusion")).as("no top-1: no confusion matrix").isFalse();

    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html).contains("minilm:2 vs minilm:1", "Cosine similarity per request", "id=\"gates\"",
        "cosine_p1&gt;=0.99", "class=\"fail\"");
    DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("report.html").toFile());
  }
}

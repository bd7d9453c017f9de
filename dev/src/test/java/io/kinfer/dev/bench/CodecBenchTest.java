package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ops bench --codecs} at toy size on the sample MLP's answers: every codec is measured and
 * written, and compression really happened (gzip stores fewer bytes than none). Not the
 * throughputs: those only mean something at full size.
 */
/** Starts a broker: an integration test. */
@Tag("integration")
class CodecBenchTest {
  @Test
  void everyCodecIsMeasuredAndGzipStoresLessThanNone(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bench.json");
    int exit = new CommandLine(new BenchCommand()).execute("--codecs", "--codec-models", "mlp", "--codec-answers",
        "300", "--codec-mb", "0.3", "--codec-rounds", "1", "--out", out.toString());

    assertThat(exit).isZero();
    JsonNode mlp = new ObjectMapper().readTree(out.toFile()).at("/codecs/mlp:1");
    assertThat(mlp.path("distinct_answers").asInt()).isEqualTo(300);
    for (String codec : CodecBench.CODECS) {
      JsonNode row = mlp.path(codec);
      assertThat(row.path("records").asLong()).as(codec).isPositive();
      assertThat(row.path("produce_records_per_s").asDouble()).as(codec).isPositive();
      assertThat(row.path("consume_records_per_s").asDouble()).as(codec).isPositive();
      assertThat(row.path("produce_cpu_us_per_record").asDouble()).as(codec).isPositive();
      assertThat(row.path("consume_cpu_us_per_record").asDouble()).as(codec).isPositive();
      assertThat(row.path("broker_bytes").asLong()).as(codec).isGreaterThan(row.path("records").asLong());
    }
    long none = mlp.at("/none/broker_bytes").asLong();
    assertThat(mlp.at("/none/broker_bytes").asLong()).isGreaterThanOrEqualTo(mlp.at("/none/value_bytes").asLong());
    assertThat(mlp.at("/gzip/broker_bytes").asLong()).isLessThan(none);
    assertThat(mlp.at("/zstd/broker_bytes").asLong()).isLessThan(none);
  }
}

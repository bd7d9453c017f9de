package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ops bench --model minilm}, engine part only, at toy sizes: the real transformer answers
 * every request under all four strategies, and their padding efficiencies are ordered as they must
 * be. Not the throughputs: those only mean something at full size.
 */
class PaddingBenchTest {
  @Test
  void lengthAwareBatchesPadLeastAndEveryStrategyAnswersEveryRequest(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bench.json");
    int exit = new CommandLine(new BenchCommand()).execute("--model", "minilm", "--padding-requests", "40",
        "--padding-batch", "8", "--padding-rounds", "1", "--e2e-requests", "0", "--out", out.toString());

    assertThat(exit).isZero();
    JsonNode padding = new ObjectMapper().readTree(out.toFile()).get("padding");
    for (String strategy : new String[] {PaddingBench.BATCH_1, PaddingBench.FIFO, PaddingBench.FIXED,
        PaddingBench.LENGTH_AWARE}) {
      assertThat(padding.at("/" + strategy + "/answered").asLong()).as(strategy).isEqualTo(40);
      assertThat(padding.at("/" + strategy + "/requests_per_s").asDouble()).as(strategy).isPositive();
    }
    double lengthAware = padding.at("/length_aware/padding_efficiency").asDouble();
    double fifo = padding.at("/fifo_padding/padding_efficiency").asDouble();
    double fixed = padding.at("/fixed_padding/padding_efficiency").asDouble();
    assertThat(padding.at("/batch_1/padding_efficiency").asDouble()).isEqualTo(1.0);
    assertThat(lengthAware).isGreaterThanOrEqualTo(fifo).isLessThanOrEqualTo(1.0);
    assertThat(fifo).isGreaterThanOrEqualTo(fixed);
    assertThat(fixed).isPositive();
    assertThat(padding.at("/batch_1/batches").asInt()).isEqualTo(40);
    assertThat(padding.at("/fifo_padding/batches").asInt()).isEqualTo(5);
  }
}

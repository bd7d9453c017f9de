package io.kinfer.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.FailureIsolation;
import io.kinfer.worker.lifecycle.JitWarmUp;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.TokenRequests;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelImporter;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real public transformer (all-MiniLM-L6-v2 from a Maven package), imported as {@code ops models
 * import} does: every answer of a padded, batched call equals ONNX Runtime run on that request alone.
 */
class RealModelEngineTest {
  static final ModelVersion V1 = new ModelVersion(PackagedModels.MINILM, "1");
  @TempDir static Path models;
  static OnnxEngine engine;
  static OrtSession reference;
  static ModelConfig imported;

  @BeforeAll
  static void load() throws Exception {
    imported = PackagedModels.importMiniLm(models, "1", 8);
    ModelRepository repository = new ModelRepository(models, 1L << 30);
    engine = new OnnxEngine(EngineOptions.cpu());
    engine.load(repository.load(V1));
    // As a worker does before joining its group: every comparison below runs on a warmed-up engine.
    JitWarmUp.Report warm = JitWarmUp.run(engine, Duration.ofMillis(300), "test");
    assertThat(warm.failed()).as("warm-up requests the real model refused").isZero();
    assertThat(warm.totalBatches()).isPositive();
    reference = OrtEnvironment.getEnvironment().createSession(
        Files.readAllBytes(models.resolve("minilm/1/model.onnx")), new OrtSession.SessionOptions());
  }

  @AfterAll
  static void close() throws Exception {
    engine.close();
    reference.close();
  }

  @Test
  void shouldImportTheSymbolicDimensionsOfTheGraph() {
    assertThat(imported.inputs()).extracting(t -> t.name() + " " + t.datatype() + " " + t.shape())
        .containsExactlyInAnyOrder("input_ids INT64 [batch_size, sequence_length]",
            "attention_mask INT64 [batch_size, sequence_length]", "token_type_ids INT64 [batch_size, sequence_length]");
    assertThat(imported.outputs()).extracting(t -> t.name() + " " + t.datatype() + " " + t.shape())
        .containsExactly("last_hidden_state FP32 [batch_size, sequence_length, 384]");
    assertThat(imported.maxDims()).containsEntry("sequence_length", 512L);
  }

  @Test
  void shouldAnswerEveryPaddedRequestAsIfItRanAlone() throws Exception {
    Random random = new Random(7);
    List<InferenceRequest> requests = new ArrayList<>();
    List<long[]> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) { // 20 requests: chunks of max_batch_size 8, 8 and 4
      long[] tokens = TokenRequests.tokens(random, 3 + random.nextInt(60));
      ids.add(tokens);
      requests.add(TokenRequests.request("r" + i, PackagedModels.MINILM, tokens));
    }
    BatchResult result = engine.infer(V1, requests);

    for (int i = 0; i < requests.size(); i++) {
      BatchResult.Outcome outcome = result.outcomes().get(i);
      assertThat(outcome.error()).isNull();
      Tensor out = outcome.outputs().get(0);
      assertThat(out.getShape()).containsExactly(1L, (long) ids.get(i).length, 384L);
      float[] alone = alone(ids.get(i));
      float[] batched = floats(out);
      assertThat(batched).hasSameSizeAs(alone);
      double maxDiff = 0;
      for (int j = 0; j < alone.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(alone[j] - batched[j]));
      }
      assertThat(maxDiff).as("request %d of %d tokens", i, ids.get(i).length).isLessThan(1e-4);
    }
  }

  @Test
  void shouldRefuseASequenceOverTheDeclaredBoundBeforeRunningIt() {
    long[] tooLong = TokenRequests.tokens(new Random(1), 513);
    BatchResult result = engine.infer(V1, List.of(TokenRequests.request("long", PackagedModels.MINILM, tooLong),
        TokenRequests.request("ok", PackagedModels.MINILM, TokenRequests.tokens(new Random(2), 10))));
    assertThat(result.outcomes().get(0).error()).contains("sequence_length=513 is over its limit of 512");
    assertThat(result.outcomes().get(1).isOk()).isTrue();
  }

  @Test
  void shouldNameBothInputsWhenTheirSharedDimensionDisagrees() {
    InferenceRequest ok = TokenRequests.request("x", PackagedModels.MINILM, TokenRequests.tokens(new Random(3), 10));
    InferenceRequest shorter = TokenRequests.request("y", PackagedModels.MINILM, TokenRequests.tokens(new Random(3), 9));
    List<Tensor> inputs = new ArrayList<>(ok.getInputs());
    inputs.set(1, shorter.getInputs().get(1)); // attention_mask of 9 for input_ids of 10
    InferenceRequest mismatched = InferenceRequest.newBuilder(ok).setInputs(inputs).build();
    String error = engine.infer(V1, List.of(mismatched)).outcomes().get(0).error();
    assertThat(error).contains("disagree on sequence_length").contains("'input_ids' has 10")
        .contains("'attention_mask' has 9");
  }

  @Test
  void shouldAnswerASequenceOverThePositionTableAsPoisonNotAsAnOutage(@TempDir Path other) throws Exception {
    // Imported without max_dims: a 600-token request fails inside the model (512 positions).
    Path onnx = PackagedModels.extractMiniLm(other.resolve("in.onnx"));
    ModelImporter.run(new ModelImporter.Request(onnx, other.resolve("repo"), "unbounded", "1", 8, Map.of(), null));
    ModelVersion unbounded = new ModelVersion("unbounded", "1");
    engine.load(new ModelRepository(other.resolve("repo"), 1L << 30).load(unbounded));
    List<Long> slept = new ArrayList<>();
    FailureIsolation isolation = new FailureIsolation(engine, new long[] {100, 400, 1600}, slept::add);
    try {
      FailureIsolation.Isolated run = isolation.run(unbounded,
          List.of(TokenRequests.request("long", "unbounded", TokenRequests.tokens(new Random(4), 600))));

      assertThat(run.engineDown()).as("the known-good probe passed").isFalse();
      assertThat(slept).as("no backoff for a poison request").isEmpty();
      assertThat(run.result().outcomes().get(0).failure()).isEqualTo(BatchResult.Failure.ENGINE);
    } finally {
      engine.unload(unbounded);
    }
  }

  /** ONNX Runtime on this one request, unpadded: the reference. */
  static float[] alone(long[] ids) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[] shape = {1, ids.length};
    long[] mask = new long[ids.length];
    java.util.Arrays.fill(mask, 1);
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
        OrtSession.Result r = reference.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      var buf = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] out = new float[buf.remaining()];
      buf.get(out);
      return out;
    }
  }

  static float[] floats(Tensor t) {
    ByteBuffer raw = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[raw.remaining() / 4];
    raw.asFloatBuffer().get(out);
    return out;
  }
}

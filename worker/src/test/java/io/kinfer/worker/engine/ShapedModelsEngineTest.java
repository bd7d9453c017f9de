package io.kinfer.worker.engine;

import static io.kinfer.worker.models.ShapeModelRequests.le;
import static io.kinfer.worker.models.ShapeModelRequests.raw;
import static io.kinfer.worker.models.ShapeModelRequests.rawTypes;
import static io.kinfer.worker.models.ShapeModelRequests.typed;
import static io.kinfer.worker.models.ShapeModelRequests.typedTypes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.platform.Fp16Conversions;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.worker.models.ShapeModelRequests;
import io.kinfer.worker.models.ShapeModels;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generated models with every served element type, variable shapes and a ZipMap, through the engine. */
class ShapedModelsEngineTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path models;
  static ModelRepository repository;
  static OnnxEngine engine;

  @BeforeAll
  static void load() throws Exception {
    ShapeModels.writeAll(models);
    repository = new ModelRepository(models, 1 << 30);
    engine = new OnnxEngine(EngineOptions.cpu());
    for (String name : List.of(ShapeModels.TYPES, ShapeModels.ZIPMAP, ShapeModels.SEQ, ShapeModels.FIXEDLEN)) {
      engine.load(repository.load(v(name)));
    }
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  static ModelVersion v(String name) {
    return new ModelVersion(name, ShapeModels.VERSION);
  }

  static Tensor output(Outcome outcome, String name) {
    assertThat(outcome.error()).isNull();
    return outcome.outputs().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
  }

  static ByteBuffer bytes(Tensor t) {
    return t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void shouldCarryEveryElementTypeThroughRawAndTypedForms() {
    BatchResult result = engine.infer(v(ShapeModels.TYPES), List.of(rawTypes("a", 0), typedTypes("b", 0), rawTypes("c", 5)));
    for (int row = 0; row < 3; row++) {
      int r = row == 2 ? 5 : 0;
      Outcome o = result.outcomes().get(row);
      ByteBuffer i64 = bytes(output(o, ShapeModels.typesOutput("INT64")));
      ByteBuffer i32 = bytes(output(o, ShapeModels.typesOutput("INT32")));
      ByteBuffer b = bytes(output(o, ShapeModels.typesOutput("BOOL")));
      ByteBuffer f16 = bytes(output(o, ShapeModels.typesOutput("FP16")));
      ByteBuffer f64 = bytes(output(o, ShapeModels.typesOutput("FP64")));
      ByteBuffer u8 = bytes(output(o, ShapeModels.typesOutput("UINT8")));
      assertThat(output(o, ShapeModels.typesOutput("FP16")).getDatatype()).isEqualTo(Datatype.FP16);
      assertThat(output(o, ShapeModels.typesOutput("UINT8")).getShape()).containsExactly(1L, 3L);
      for (int j = 0; j < 3; j++) {
        assertThat(i64.getLong()).isEqualTo((1L << 40 | (r + j)) + 1);
        assertThat(i32.getInt()).isEqualTo(-(r + j) + 1);
        assertThat(b.get()).isEqualTo((byte) ((r + j) % 2 == 1 ? 0 : 1)); // Not
        assertThat(Fp16Conversions.fp16ToFloat(f16.getShort())).isEqualTo(r + j + 1.5f);
        assertThat(f64.getDouble()).isEqualTo(r + j + 1.25);
        assertThat(Byte.toUnsignedInt(u8.get())).isEqualTo((250 + j + 1) & 0xff);
      }
    }
  }

  @Test
  void shouldRefuseTypedIntegersOutsideTheirDatatypesRange() {
    InferenceRequest bad = typedTypes("bad", 0);
    List<Tensor> inputs = new ArrayList<>(bad.getInputs());
    inputs.set(5, typed(ShapeModels.typesInput("UINT8"), Datatype.UINT8,
        TensorData.newBuilder().setInt32(List.of(1, 256, 3)).build(), 1, 3));
    String error = engine.infer(v(ShapeModels.TYPES), List.of(InferenceRequest.newBuilder(bad).setInputs(inputs).build()))
        .outcomes().get(0).error();
    assertThat(error).contains("is UINT8 but element 1 is 256 (range 0..255)");
  }

  @Test
  void shouldAnswerAZipMapClassifierWithALabelAndAProbabilityTensor() {
    List<InferenceRequest> requests = new ArrayList<>();
    for (int r = 0; r < 5; r++) {
      requests.add(ShapeModelRequests.zipMap("z" + r, r));
    }
    BatchResult result = engine.infer(v(ShapeModels.ZIPMAP), requests);
    for (Outcome o : result.outcomes()) {
      Tensor label = output(o, ShapeModels.ZIPMAP_LABEL);
      Tensor probabilities = output(o, ShapeModels.ZIPMAP_PROBABILITY);
      assertThat(label.getDatatype()).isEqualTo(Datatype.INT64);
      assertThat(label.getShape()).containsExactly(1L);
      assertThat(probabilities.getDatatype()).isEqualTo(Datatype.FP32);
      assertThat(probabilities.getShape()).containsExactly(1L, 3L);
      ByteBuffer p = bytes(probabilities);
      float[] ps = {p.getFloat(), p.getFloat(), p.getFloat()};
      assertThat(ps[0] + ps[1] + ps[2]).isCloseTo(1f, within(1e-5f));
      int argmax = ps[0] >= ps[1] && ps[0] >= ps[2] ? 0 : ps[1] >= ps[2] ? 1 : 2;
      assertThat(bytes(label).getLong()).isEqualTo(argmax);
    }
  }

  @Test
  void shouldRefuseAZipMapWithoutClassesSayingHowToExportIt(@TempDir Path other) throws Exception {
    ShapeModels.writeZipMap(other);
    Path json = other.resolve("zipmap/1/model.json");
    ObjectNode config = (ObjectNode) JSON.readTree(json.toFile());
    config.withArray("outputs").forEach(o -> ((ObjectNode) o).remove("classes"));
    JSON.writeValue(json.toFile(), config);
    try (OnnxEngine fresh = new OnnxEngine(EngineOptions.cpu())) {
      var model = new ModelRepository(other, 1 << 30).load(v(ShapeModels.ZIPMAP));
      assertThatThrownBy(() -> fresh.load(model)).isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("is a ZipMap").hasMessageContaining("\"classes\"")
          .hasMessageContaining("'zipmap': False");
    }
  }

  @Test
  void shouldRefuseAnOutputWithoutABatchDimension(@TempDir Path other) throws Exception {
    var declared = repository.load(v(ShapeModels.NOBATCH));
    ShapeModels.writeNoBatch(other);
    Path json = other.resolve("nobatch/1/model.json");
    ObjectNode config = (ObjectNode) JSON.readTree(json.toFile());
    ((ObjectNode) config.withArray("outputs").get(0)).putArray("shape").add(-1).add(4); // model.json lies
    JSON.writeValue(json.toFile(), config);
    var lying = new ModelRepository(other, 1 << 30).load(v(ShapeModels.NOBATCH));
    try (OnnxEngine fresh = new OnnxEngine(EngineOptions.cpu())) {
      assertThatThrownBy(() -> fresh.load(declared)).isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("output 'total' with shape [4]: no batch dimension");
      assertThatThrownBy(() -> fresh.load(lying)).isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("output 'total' of model.onnx has shape [4]: no batch dimension")
          .hasMessageContaining("dynamic_axes");
    }
  }

  static InferenceRequest sequence(String id, long... ids) {
    ByteBuffer idBytes = le(8 * ids.length);
    ByteBuffer mask = le(8 * ids.length);
    for (long id64 : ids) {
      idBytes.putLong(id64);
      mask.putLong(1);
    }
    return InferenceRequest.newBuilder().setId(id).setModel(ShapeModels.SEQ).setInputs(List.of(
        raw(ShapeModels.SEQ_INPUT_IDS, Datatype.INT64, idBytes, 1, ids.length),
        raw(ShapeModels.SEQ_ATTENTION_MASK, Datatype.INT64, mask, 1, ids.length))).build();
  }

  @Test
  void shouldCutEachPaddedAnswerBackToItsRequestsLength() {
    InferenceRequest three = sequence("3", 4, 9, 17);
    InferenceRequest five = sequence("5", 1, 2, 3, 4, 5);
    InferenceRequest one = sequence("1", 33);
    BatchResult batched = engine.infer(v(ShapeModels.SEQ), List.of(three, five, one));
    for (int i = 0; i < 3; i++) {
      InferenceRequest request = List.of(three, five, one).get(i);
      Outcome alone = engine.infer(v(ShapeModels.SEQ), List.of(request)).outcomes().get(0);
      Outcome inBatch = batched.outcomes().get(i);
      long length = request.getInputs().get(0).getShape().get(1);
      assertThat(output(inBatch, ShapeModels.SEQ_HIDDEN).getShape()).containsExactly(1L, length, 4L);
      assertThat(output(inBatch, ShapeModels.SEQ_POOLED).getShape()).containsExactly(1L, 4L);
      assertThat(output(inBatch, ShapeModels.SEQ_HIDDEN).getRaw()).isEqualTo(output(alone, ShapeModels.SEQ_HIDDEN).getRaw());
      assertThat(output(inBatch, ShapeModels.SEQ_POOLED).getRaw()).isEqualTo(output(alone, ShapeModels.SEQ_POOLED).getRaw());
    }
  }

  @Test
  void shouldBatchAnUnpaddableInputOnlyWithRequestsOfItsShape() {
    assertThat(engine.model(v(ShapeModels.FIXEDLEN)).whyNotPaddable()).contains("'x' sets allow_padding=false");
    List<InferenceRequest> requests = new ArrayList<>();
    for (int n : new int[] {2, 3, 2, 5}) {
      ByteBuffer x = le(4 * n);
      for (int j = 0; j < n; j++) {
        x.putFloat(n * 10 + j);
      }
      requests.add(InferenceRequest.newBuilder().setId("n" + n).setModel(ShapeModels.FIXEDLEN)
          .setInputs(List.of(raw(ShapeModels.FIXEDLEN_INPUT, Datatype.FP32, x, 1, n))).build());
    }
    BatchResult result = engine.infer(v(ShapeModels.FIXEDLEN), requests);
    for (int i = 0; i < requests.size(); i++) {
      long n = requests.get(i).getInputs().get(0).getShape().get(1);
      Tensor y = output(result.outcomes().get(i), ShapeModels.FIXEDLEN_OUTPUT);
      assertThat(y.getShape()).containsExactly(1L, n);
      ByteBuffer values = bytes(y);
      for (int j = 0; j < n; j++) {
        assertThat(values.getFloat()).isEqualTo(2 * (n * 10 + j));
      }
    }
  }

  @Test
  void shouldNameTheInputAndBothShapesWhenARequestIsMisshapen() {
    String error = engine.infer(v(ShapeModels.SEQ), List.of(InferenceRequest.newBuilder(sequence("s", 1, 2))
        .setInputs(List.of(raw(ShapeModels.SEQ_INPUT_IDS, Datatype.INT64, le(16), 2, 1),
            raw(ShapeModels.SEQ_ATTENTION_MASK, Datatype.INT64, le(16), 2, 1))).build())).outcomes().get(0).error();
    assertThat(error).contains("Input 'input_ids'").contains("[batch, sequence]").contains("[2, 1]");
  }
}

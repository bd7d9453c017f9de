package io.kinfer.worker.engine;

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

  static Tensor raw(String name, Datatype type, ByteBuffer bytes, long... shape) {
    return Tensor.newBuilder().setName(name).setDatatype(type).setShape(java.util.Arrays.stream(shape).boxed().toList())
        .setRaw(bytes.flip()).build();
  }

  static Tensor typed(String name, Datatype type, TensorData data, long... shape) {
    return Tensor.newBuilder().setName(name).setDatatype(type).setShape(java.util.Arrays.stream(shape).boxed().toList())
        .setData(data).build();
  }

  static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static Tensor output(Outcome outcome, String name) {
    assertThat(outcome.error()).isNull();
    return outcome.outputs().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
  }

  static ByteBuffer bytes(Tensor t) {
    return t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Raw inputs of row {@code r}: values r, r+1, r+2 (true/false alternating for BOOL). */
  static InferenceRequest rawTypes(int r) {
    List<Tensor> inputs = new ArrayList<>();
    ByteBuffer i64 = le(24);
    ByteBuffer i32 = le(12);
    ByteBuffer b = le(3);
    ByteBuffer f16 = le(6);
    ByteBuffer f64 = le(24);
    ByteBuffer u8 = le(3);
    for (int j = 0; j < 3; j++) {
      i64.putLong(1L << 40 | (r + j));
      i32.putInt(-(r + j));
      b.put((byte) ((r + j) % 2));
      f16.putShort(Fp16Conversions.floatToFp16(r + j + 0.5f));
      f64.putDouble(r + j + 0.25);
      u8.put((byte) (250 + j));
    }
    inputs.add(raw(ShapeModels.typesInput("INT64"), Datatype.INT64, i64, 1, 3));
    inputs.add(raw(ShapeModels.typesInput("INT32"), Datatype.INT32, i32, 1, 3));
    inputs.add(raw(ShapeModels.typesInput("BOOL"), Datatype.BOOL, b, 1, 3));
    inputs.add(raw(ShapeModels.typesInput("FP16"), Datatype.FP16, f16, 1, 3));
    inputs.add(raw(ShapeModels.typesInput("FP64"), Datatype.FP64, f64, 1, 3));
    inputs.add(raw(ShapeModels.typesInput("UINT8"), Datatype.UINT8, u8, 1, 3));
    return InferenceRequest.newBuilder().setId("raw" + r).setModel(ShapeModels.TYPES).setInputs(inputs).build();
  }

  /** The same values as {@link #rawTypes}, in OIP's typed form. */
  static InferenceRequest typedTypes(int r) {
    List<Long> i64 = new ArrayList<>();
    List<Integer> i32 = new ArrayList<>();
    List<Boolean> b = new ArrayList<>();
    List<Float> f16 = new ArrayList<>();
    List<Double> f64 = new ArrayList<>();
    List<Integer> u8 = new ArrayList<>();
    for (int j = 0; j < 3; j++) {
      i64.add(1L << 40 | (r + j));
      i32.add(-(r + j));
      b.add((r + j) % 2 == 1);
      f16.add(r + j + 0.5f);
      f64.add(r + j + 0.25);
      u8.add(250 + j);
    }
    return InferenceRequest.newBuilder().setId("typed" + r).setModel(ShapeModels.TYPES).setInputs(List.of(
        typed(ShapeModels.typesInput("INT64"), Datatype.INT64, TensorData.newBuilder().setInt64(i64).build(), 1, 3),
        typed(ShapeModels.typesInput("INT32"), Datatype.INT32, TensorData.newBuilder().setInt32(i32).build(), 1, 3),
        typed(ShapeModels.typesInput("BOOL"), Datatype.BOOL, TensorData.newBuilder().setBool(b).build(), 1, 3),
        typed(ShapeModels.typesInput("FP16"), Datatype.FP16, TensorData.newBuilder().setFp32(f16).build(), 1, 3),
        typed(ShapeModels.typesInput("FP64"), Datatype.FP64, TensorData.newBuilder().setFp64(f64).build(), 1, 3),
        typed(ShapeModels.typesInput("UINT8"), Datatype.UINT8, TensorData.newBuilder().setInt32(u8).build(), 1, 3)))
        .build();
  }

  @Test
  void shouldCarryEveryElementTypeThroughRawAndTypedForms() {
    BatchResult result = engine.infer(v(ShapeModels.TYPES), List.of(rawTypes(0), typedTypes(0), rawTypes(5)));
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
    InferenceRequest bad = typedTypes(0);
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
      ByteBuffer x = le(16);
      for (int j = 0; j < 4; j++) {
        x.putFloat((float) Math.sin(r * 4 + j) * 3);
      }
      requests.add(InferenceRequest.newBuilder().setId("z" + r).setModel(ShapeModels.ZIPMAP)
          .setInputs(List.of(raw(ShapeModels.ZIPMAP_INPUT, Datatype.FP32, x, 1, 4))).build());
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

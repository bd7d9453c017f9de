package io.kinfer.worker.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs every {@link ShapeModels} model through ONNX Runtime directly (no worker in between). */
class ShapeModelsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  @TempDir static Path models;
  static List<Path> written;
  static final Map<String, OrtSession> SESSIONS = new HashMap<>();

  @BeforeAll
  static void writeAndLoad() throws Exception {
    written = ShapeModels.writeAll(models);
    for (Path dir : written) {
      SESSIONS.put(dir.getParent().getFileName().toString(),
          ENV.createSession(dir.resolve("model.onnx").toString(), new OrtSession.SessionOptions()));
    }
  }

  @AfterAll
  static void close() throws OrtException {
    for (OrtSession s : SESSIONS.values()) {
      s.close();
    }
  }

  static TensorInfo info(Map<String, NodeInfo> infos, String name) {
    return (TensorInfo) infos.get(name).getInfo();
  }

  static float[] floats(OnnxValue value) {
    FloatBuffer b = ((OnnxTensor) value).getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  // ---- zipmap

  @Test
  void shouldDeclareSkl2onnxSignatureWhenZipMapModelIsLoaded() throws OrtException {
    OrtSession s = SESSIONS.get(ShapeModels.ZIPMAP);
    TensorInfo in = info(s.getInputInfo(), ShapeModels.ZIPMAP_INPUT);
    assertThat(in.type).isEqualTo(OnnxJavaType.FLOAT);
    assertThat(in.getShape()).containsExactly(-1, 4);
    assertThat(in.getDimensionNames()[0]).isEqualTo(ShapeModels.ZIPMAP_BATCH);
    TensorInfo label = info(s.getOutputInfo(), ShapeModels.ZIPMAP_LABEL);
    assertThat(label.type).isEqualTo(OnnxJavaType.INT64);
    assertThat(label.getShape()).containsExactly(-1);
    SequenceInfo probability = (SequenceInfo) s.getOutputInfo().get(ShapeModels.ZIPMAP_PROBABILITY).getInfo();
    assertThat(probability.isSequenceOfMaps()).isTrue();
    MapInfo map = probability.mapInfo;
    assertThat(map.keyType).isEqualTo(OnnxJavaType.INT64);
    assertThat(map.valueType).isEqualTo(OnnxJavaType.FLOAT);
  }

  @Test
  void shouldReturnMapsThatSumToOneAndAgreeWithTheLabelWhenZipMapModelRuns() throws OrtException {
    int rows = 12;
    Random random = new Random(5);
    float[] x = new float[rows * ShapeModels.ZIPMAP_FEATURES];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() * 2);
    }
    Set<Long> labelsSeen = new HashSet<>();
    try (OnnxTensor input = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {rows, ShapeModels.ZIPMAP_FEATURES});
        OrtSession.Result result = SESSIONS.get(ShapeModels.ZIPMAP).run(Map.of(ShapeModels.ZIPMAP_INPUT, input))) {
      long[] labels = (long[]) result.get(ShapeModels.ZIPMAP_LABEL).get().getValue();
      OnnxValue probability = result.get(ShapeModels.ZIPMAP_PROBABILITY).get();
      assertThat(probability).isInstanceOf(OnnxSequence.class);
      List<? extends OnnxValue> maps = ((OnnxSequence) probability).getValue();
      assertThat(labels).hasSize(rows);
      assertThat(maps).hasSize(rows);
      for (int r = 0; r < rows; r++) {
        assertThat(maps.get(r)).isInstanceOf(OnnxMap.class);
        Map<?, ?> p = ((OnnxMap) maps.get(r)).getValue();
        assertThat(new ArrayList<Object>(p.keySet())).containsExactlyInAnyOrderElementsOf(ShapeModels.ZIPMAP_CLASSES);
        double sum = 0;
        long argmax = -1;
        float best = -1;
        for (Map.Entry<?, ?> e : p.entrySet()) {
          float v = (Float) e.getValue();
          assertThat(v).isBetween(0f, 1f);
          sum += v;
          if (v > best) {
            best = v;
            argmax = (Long) e.getKey();
          }
        }
        assertThat(sum).isCloseTo(1.0, within(1e-5));
        assertThat(argmax).as("row %d", r).isEqualTo(labels[r]);
        labelsSeen.add(labels[r]);
      }
    }
    assertThat(labelsSeen).as("the classifier is not constant").hasSizeGreaterThan(1);
  }

  // ---- types

  @Test
  void shouldDeclareOneInputAndOutputPerDatatypeWhenTypesModelIsLoaded() throws OrtException {
    OrtSession s = SESSIONS.get(ShapeModels.TYPES);
    Map<String, OnnxJavaType> expected = Map.of("INT64", OnnxJavaType.INT64, "INT32", OnnxJavaType.INT32,
        "BOOL", OnnxJavaType.BOOL, "FP16", OnnxJavaType.FLOAT16, "FP64", OnnxJavaType.DOUBLE,
        "UINT8", OnnxJavaType.UINT8);
    for (String datatype : ShapeModels.TYPES_DATATYPES) {
      for (TensorInfo t : List.of(info(s.getInputInfo(), ShapeModels.typesInput(datatype)),
          info(s.getOutputInfo(), ShapeModels.typesOutput(datatype)))) {
        assertThat(t.type).as(datatype).isEqualTo(expected.get(datatype));
        assertThat(t.getShape()).containsExactly(-1, ShapeModels.TYPES_WIDTH);
        assertThat(t.getDimensionNames()[0]).isEqualTo(ShapeModels.BATCH);
      }
    }
  }

  @Test
  void shouldComputeOnEveryDatatypeWhenTypesModelRunsOnRealValues() throws OrtException {
    long[] shape = {2, ShapeModels.TYPES_WIDTH};
    float[] halves = {0.5f, -2.25f, 1024f, 3.5f, -0.125f, 0f}; // exact in FP16, and so is x + 1
    short[] fp16 = new short[halves.length];
    for (int i = 0; i < halves.length; i++) {
      fp16[i] = Fp16Conversions.floatToFp16(halves[i]);
    }
    byte[] bools = {1, 0, 1, 0, 0, 1};
    byte[] uint8 = {0, 7, (byte) 200, (byte) 254, 1, 100}; // 200 and 254 only fit unsigned
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("in_int64", OnnxTensor.createTensor(ENV,
          LongBuffer.wrap(new long[] {-5, 0, 1L << 40, 7, -1, Long.MAX_VALUE - 1}), shape));
      inputs.put("in_int32", OnnxTensor.createTensor(ENV,
          IntBuffer.wrap(new int[] {-5, 0, 1 << 30, 7, -1, Integer.MAX_VALUE - 1}), shape));
      inputs.put("in_bool", OnnxTensor.createTensor(ENV, ByteBuffer.wrap(bools), shape, OnnxJavaType.BOOL));
      inputs.put("in_fp16", OnnxTensor.createTensor(ENV, ShortBuffer.wrap(fp16), shape, OnnxJavaType.FLOAT16));
      inputs.put("in_fp64", OnnxTensor.createTensor(ENV,
          DoubleBuffer.wrap(new double[] {0.1, -1e300, 2.5, 1e-17, -1, 0}), shape));
      inputs.put("in_uint8", OnnxTensor.createTensor(ENV, ByteBuffer.wrap(uint8), shape, OnnxJavaType.UINT8));
      try (OrtSession.Result r = SESSIONS.get(ShapeModels.TYPES).run(inputs)) {
        assertThat((long[][]) r.get("out_int64").get().getValue())
            .isEqualTo(new long[][] {{-4, 1, (1L << 40) + 1}, {8, 0, Long.MAX_VALUE}});
        assertThat((int[][]) r.get("out_int32").get().getValue())
            .isEqualTo(new int[][] {{-4, 1, (1 << 30) + 1}, {8, 0, Integer.MAX_VALUE}});
        assertThat((boolean[][]) r.get("out_bool").get().getValue())
            .isEqualTo(new boolean[][] {{false, true, false}, {true, true, false}});
        ShortBuffer half = ((OnnxTensor) r.get("out_fp16").get()).getShortBuffer();
        float[] plusOne = new float[halves.length];
        for (int i = 0; i < plusOne.length; i++) {
          plusOne[i] = Fp16Conversions.fp16ToFloat(half.get(i));
        }
        assertThat(plusOne).containsExactly(1.5f, -1.25f, 1025f, 4.5f, 0.875f, 1f);
        assertThat((double[][]) r.get("out_fp64").get().getValue())
            .isEqualTo(new double[][] {{0.1 + 1, -1e300 + 1, 3.5}, {1e-17 + 1, 0, 1}});
        ByteBuffer u = ((OnnxTensor) r.get("out_uint8").get()).getByteBuffer();
        int[] unsigned = new int[uint8.length];
        for (int i = 0; i < unsigned.length; i++) {
          unsigned[i] = Byte.toUnsignedInt(u.get(i));
        }
        assertThat(unsigned).containsExactly(1, 8, 201, 255, 2, 101);
      }
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  // ---- seq

  static final long[] SHORT = {4, 17, 33};
  static final long[] LONG = {9, 2, 48, 21, 5};

  /** pooled and hidden for token rows padded with id 0 to the longest; {@code masked} false ignores the padding. */
  static float[][] runSeq(long[][] ids, boolean masked) throws OrtException {
    int length = 0;
    for (long[] row : ids) {
      length = Math.max(length, row.length);
    }
    long[] flatIds = new long[ids.length * length];
    long[] mask = new long[ids.length * length];
    for (int r = 0; r < ids.length; r++) {
      for (int t = 0; t < length; t++) {
        boolean real = t < ids[r].length;
        flatIds[r * length + t] = real ? ids[r][t] : 0;
        mask[r * length + t] = real || !masked ? 1 : 0;
      }
    }
    long[] shape = {ids.length, length};
    try (OnnxTensor i = OnnxTensor.createTensor(ENV, LongBuffer.wrap(flatIds), shape);
        OnnxTensor m = OnnxTensor.createTensor(ENV, LongBuffer.wrap(mask), shape);
        OrtSession.Result r = SESSIONS.get(ShapeModels.SEQ).run(
            Map.of(ShapeModels.SEQ_INPUT_IDS, i, ShapeModels.SEQ_ATTENTION_MASK, m))) {
      OnnxTensor hidden = (OnnxTensor) r.get(ShapeModels.SEQ_HIDDEN).get();
      OnnxTensor pooled = (OnnxTensor) r.get(ShapeModels.SEQ_POOLED).get();
      assertThat(hidden.getInfo().getShape()).containsExactly(ids.length, length, ShapeModels.SEQ_WIDTH);
      assertThat(pooled.getInfo().getShape()).containsExactly(ids.length, ShapeModels.SEQ_WIDTH);
      return new float[][] {floats(pooled), floats(hidden)};
    }
  }

  /** Every value is 0 or -0 (a negative embedding times a 0 mask is -0). */
  static void assertZeros(float[] values, String what) {
    for (float v : values) {
      assertThat(Math.abs(v)).as(what).isZero();
    }
  }

  static float[] slice(float[] values, int from, int count) {
    float[] out = new float[count];
    System.arraycopy(values, from, out, 0, count);
    return out;
  }

  @Test
  void shouldKeepSymbolicDimsWhenSeqModelIsLoaded() throws OrtException {
    OrtSession s = SESSIONS.get(ShapeModels.SEQ);
    for (String input : List.of(ShapeModels.SEQ_INPUT_IDS, ShapeModels.SEQ_ATTENTION_MASK)) {
      TensorInfo t = info(s.getInputInfo(), input);
      assertThat(t.type).isEqualTo(OnnxJavaType.INT64);
      assertThat(t.getDimensionNames()).containsExactly(ShapeModels.BATCH, ShapeModels.SEQUENCE);
    }
    TensorInfo hidden = info(s.getOutputInfo(), ShapeModels.SEQ_HIDDEN);
    assertThat(hidden.getShape()).containsExactly(-1, -1, ShapeModels.SEQ_WIDTH);
    assertThat(hidden.getDimensionNames()).startsWith(ShapeModels.BATCH, ShapeModels.SEQUENCE);
    TensorInfo pooled = info(s.getOutputInfo(), ShapeModels.SEQ_POOLED);
    assertThat(pooled.getShape()).containsExactly(-1, ShapeModels.SEQ_WIDTH);
    assertThat(pooled.getDimensionNames()[0]).isEqualTo(ShapeModels.BATCH);
  }

  @Test
  void shouldGiveTheSameAnswersWhenSequencesOfLengths3And5ArePaddedTogether() throws OrtException {
    int w = ShapeModels.SEQ_WIDTH;
    float[][] shortAlone = runSeq(new long[][] {SHORT}, true);
    float[][] longAlone = runSeq(new long[][] {LONG}, true);
    float[][] together = runSeq(new long[][] {SHORT, LONG}, true);

    assertThat(slice(together[0], 0, w)).containsExactly(shortAlone[0], within(1e-6f));
    assertThat(slice(together[0], w, w)).containsExactly(longAlone[0], within(1e-6f));
    int rowStride = LONG.length * w;
    assertThat(slice(together[1], 0, SHORT.length * w)).containsExactly(shortAlone[1]);
    assertZeros(slice(together[1], SHORT.length * w, (LONG.length - SHORT.length) * w), "hidden at padded positions");
    assertThat(slice(together[1], rowStride, rowStride)).containsExactly(longAlone[1]);
  }

  @Test
  void shouldChangePooledWhenPaddingIsNotMasked() throws OrtException {
    float[] shortAlone = runSeq(new long[][] {SHORT}, true)[0];
    float[] unmasked = slice(runSeq(new long[][] {SHORT, LONG}, false)[0], 0, ShapeModels.SEQ_WIDTH);
    float difference = 0;
    for (int i = 0; i < shortAlone.length; i++) {
      difference = Math.max(difference, Math.abs(shortAlone[i] - unmasked[i]));
    }
    assertThat(difference).as("pad id 0 embeds to a non-zero row, so only the mask hides it").isGreaterThan(1e-2f);
  }

  @Test
  void shouldPoolToZeroNotNaNWhenARowIsAllPadding() throws OrtException {
    long[] shape = {1, 2};
    try (OnnxTensor i = OnnxTensor.createTensor(ENV, LongBuffer.wrap(new long[] {3, 4}), shape);
        OnnxTensor m = OnnxTensor.createTensor(ENV, LongBuffer.wrap(new long[] {0, 0}), shape);
        OrtSession.Result r = SESSIONS.get(ShapeModels.SEQ).run(
            Map.of(ShapeModels.SEQ_INPUT_IDS, i, ShapeModels.SEQ_ATTENTION_MASK, m))) {
      assertZeros(floats(r.get(ShapeModels.SEQ_POOLED).get()), "pooled of an all-padding row");
    }
  }

  // ---- nobatch

  @Test
  void shouldReturnAnOutputWithoutBatchDimensionWhenNoBatchModelSumsTheBatch() throws OrtException {
    OrtSession s = SESSIONS.get(ShapeModels.NOBATCH);
    assertThat(info(s.getOutputInfo(), ShapeModels.NOBATCH_OUTPUT).getShape()).containsExactly(ShapeModels.NOBATCH_WIDTH);
    float[] x = {1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400};
    try (OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {3, 4});
        OrtSession.Result r = s.run(Map.of(ShapeModels.NOBATCH_INPUT, in))) {
      OnnxTensor total = (OnnxTensor) r.get(ShapeModels.NOBATCH_OUTPUT).get();
      assertThat(total.getInfo().getShape()).containsExactly(4);
      assertThat(floats(total)).containsExactly(111, 222, 333, 444);
    }
  }

  // ---- fixedlen

  @Test
  void shouldDoubleInputsOfAnyLengthWhenFixedLenModelRuns() throws OrtException {
    OrtSession s = SESSIONS.get(ShapeModels.FIXEDLEN);
    assertThat(info(s.getInputInfo(), ShapeModels.FIXEDLEN_INPUT).getDimensionNames())
        .containsExactly(ShapeModels.BATCH, ShapeModels.FIXEDLEN_LENGTH);
    assertThat(info(s.getOutputInfo(), ShapeModels.FIXEDLEN_OUTPUT).getDimensionNames())
        .containsExactly(ShapeModels.BATCH, ShapeModels.FIXEDLEN_LENGTH);
    for (int n : new int[] {2, 5}) {
      float[] x = new float[2 * n];
      for (int i = 0; i < x.length; i++) {
        x[i] = i - 1.5f;
      }
      try (OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {2, n});
          OrtSession.Result r = s.run(Map.of(ShapeModels.FIXEDLEN_INPUT, in))) {
        OnnxTensor y = (OnnxTensor) r.get(ShapeModels.FIXEDLEN_OUTPUT).get();
        assertThat(y.getInfo().getShape()).containsExactly(2, n);
        float[] out = floats(y);
        for (int i = 0; i < x.length; i++) {
          assertThat(out[i]).isEqualTo(2 * x[i]);
        }
      }
    }
  }

  // ---- model.json

  @Test
  void shouldWriteModelJsonMatchingTheGraphWhenWritingAll() throws Exception {
    assertThat(written).extracting(d -> d.getParent().getFileName().toString())
        .containsExactly(ShapeModels.ZIPMAP, ShapeModels.TYPES, ShapeModels.SEQ, ShapeModels.NOBATCH, ShapeModels.FIXEDLEN);
    for (Path dir : written) {
      String name = dir.getParent().getFileName().toString();
      JsonNode json = JSON.readTree(dir.resolve("model.json").toFile());
      assertThat(json.get("name").asText()).isEqualTo(name);
      assertThat(json.get("version").asText()).isEqualTo(ShapeModels.VERSION);
      assertThat(json.get("max_batch_size").asInt()).isEqualTo(ShapeModels.MAX_BATCH_SIZE);
      assertThat(json.get("sha256").asText()).isEqualTo(Sha256.hex(Files.readAllBytes(dir.resolve("model.onnx"))));
      assertThat(json.get("description").asText()).isNotBlank();
      OrtSession s = SESSIONS.get(name);
      assertThat(names(json.get("inputs"))).as(name).containsExactlyInAnyOrderElementsOf(s.getInputNames());
      assertThat(names(json.get("outputs"))).as(name).containsExactlyInAnyOrderElementsOf(s.getOutputNames());
    }
  }

  @Test
  void shouldWriteTheSpecialFieldsWhenAModelNeedsThem() throws IOException {
    JsonNode zipmap = config(ShapeModels.ZIPMAP);
    assertThat(zipmap.at("/outputs/0/shape").toString()).isEqualTo("[-1]");
    assertThat(zipmap.at("/outputs/1/datatype").asText()).isEqualTo("FP32");
    assertThat(zipmap.at("/outputs/1/shape").toString()).isEqualTo("[-1,3]");
    assertThat(zipmap.at("/outputs/1/classes").toString()).isEqualTo("[0,1,2]");
    JsonNode seq = config(ShapeModels.SEQ);
    assertThat(seq.at("/inputs/0/shape").toString()).isEqualTo("[\"batch\",\"sequence\"]");
    assertThat(seq.at("/outputs/0/shape").toString()).isEqualTo("[\"batch\",\"sequence\",4]");
    assertThat(seq.at("/outputs/1/shape").toString()).isEqualTo("[\"batch\",4]");
    assertThat(config(ShapeModels.NOBATCH).at("/outputs/0/shape").toString()).isEqualTo("[4]");
    JsonNode fixedlen = config(ShapeModels.FIXEDLEN);
    assertThat(fixedlen.at("/inputs/0/allow_padding").isBoolean()).isTrue();
    assertThat(fixedlen.at("/inputs/0/allow_padding").asBoolean()).isFalse();
    JsonNode types = config(ShapeModels.TYPES);
    List<String> datatypes = new ArrayList<>();
    types.get("inputs").forEach(i -> {
      datatypes.add(i.get("datatype").asText());
      assertThat(i.get("shape").toString()).isEqualTo("[-1,3]");
    });
    assertThat(datatypes).containsExactlyElementsOf(ShapeModels.TYPES_DATATYPES);
  }

  @Test
  void shouldBeReadableByModelConfigWhenWritten() throws IOException {
    for (Path dir : written) {
      ModelConfig config = JSON.readValue(dir.resolve("model.json").toFile(), ModelConfig.class);
      assertThat(config.name()).isEqualTo(dir.getParent().getFileName().toString());
      assertThat(config.sha256()).isEqualTo(Sha256.hex(Files.readAllBytes(dir.resolve("model.onnx"))));
      assertThat(config.inputs()).isNotEmpty();
    }
  }

  @Test
  void shouldWriteIdenticalBytesWhenWrittenTwice(@TempDir Path again) throws IOException {
    List<Path> second = ShapeModels.writeAll(again);
    for (int i = 0; i < written.size(); i++) {
      for (String file : List.of("model.onnx", "model.json")) {
        assertThat(Files.readAllBytes(second.get(i).resolve(file)))
            .as("%s/%s", written.get(i), file)
            .isEqualTo(Files.readAllBytes(written.get(i).resolve(file)));
      }
    }
  }

  static JsonNode config(String name) throws IOException {
    return JSON.readTree(models.resolve(name).resolve(ShapeModels.VERSION).resolve("model.json").toFile());
  }

  static List<String> names(JsonNode specs) {
    List<String> names = new ArrayList<>();
    specs.forEach(s -> names.add(s.get("name").asText()));
    return names;
  }
}

package io.kinfer.worker.models;

import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.BOOL;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.DOUBLE;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.FLOAT;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.FLOAT16;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.INT32;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.INT64;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.UINT8;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.worker.models.OnnxGraphWriter.Attribute;
import io.kinfer.worker.models.OnnxGraphWriter.ElementType;
import io.kinfer.worker.models.OnnxGraphWriter.ValueType;
import io.kinfer.worker.repository.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small models with the signatures real exporters produce, for tests of everything that is not an
 * FP32 [batch, features] tensor. Each is written deterministically (fixed seeds) as
 * {@code root/<name>/1/model.onnx} plus {@code model.json}.
 *
 * <ul>
 *   <li>{@value #ZIPMAP}: a 4-feature, 3-class LogisticRegression shaped as skl2onnx exports it
 *       (LinearClassifier, Normalizer, ZipMap): a label tensor and a sequence of maps.
 *   <li>{@value #TYPES}: one input and output per non-FP32 datatype (INT64, INT32, BOOL, FP16, FP64,
 *       UINT8), each computed on so the test sees the data went through.
 *   <li>{@value #SEQ}: token ids and attention mask with a dynamic sequence length, an embedding
 *       lookup and mean pooling over the mask: padding only gives the same answer if masking is right.
 *   <li>{@value #NOBATCH}: an output without a batch dimension (the batch summed away).
 *   <li>{@value #FIXEDLEN}: a variable-length input the model.json declares unpaddable.
 * </ul>
 *
 * <p>model.json is written from maps rather than {@link io.kinfer.worker.repository.ModelConfig}:
 * these files carry fields (symbolic dims, {@code classes}, {@code allow_padding}) that the record
 * is only gaining now, and writing them as plain JSON keeps the files independent of the record.
 */
public final class ShapeModels {
  public static final String VERSION = "1";
  public static final int MAX_BATCH_SIZE = 16;
  /** The ONNX domain of the classical ML operators (LinearClassifier, Normalizer, ZipMap). */
  public static final String ML_DOMAIN = "ai.onnx.ml";

  public static final String ZIPMAP = "zipmap";
  public static final String ZIPMAP_INPUT = "float_input";
  public static final String ZIPMAP_LABEL = "output_label";
  public static final String ZIPMAP_PROBABILITY = "output_probability";
  public static final int ZIPMAP_FEATURES = 4;
  public static final List<Long> ZIPMAP_CLASSES = List.of(0L, 1L, 2L);
  /** skl2onnx's name for the free batch dimension of the input. */
  public static final String ZIPMAP_BATCH = "N";

  public static final String TYPES = "types";
  /** Datatypes of {@value #TYPES}, by OIP name; input {@code in_<name>}, output {@code out_<name>}. */
  public static final List<String> TYPES_DATATYPES = List.of("INT64", "INT32", "BOOL", "FP16", "FP64", "UINT8");
  public static final int TYPES_WIDTH = 3;

  public static final String SEQ = "seq";
  public static final String SEQ_INPUT_IDS = "input_ids";
  public static final String SEQ_ATTENTION_MASK = "attention_mask";
  public static final String SEQ_HIDDEN = "hidden";
  public static final String SEQ_POOLED = "pooled";
  public static final String BATCH = "batch";
  public static final String SEQUENCE = "sequence";
  public static final int SEQ_VOCABULARY = 50;
  public static final int SEQ_WIDTH = 4;

  public static final String NOBATCH = "nobatch";
  public static final String NOBATCH_INPUT = "x";
  public static final String NOBATCH_OUTPUT = "total";
  public static final int NOBATCH_WIDTH = 4;

  public static final String FIXEDLEN = "fixedlen";
  public static final String FIXEDLEN_INPUT = "x";
  public static final String FIXEDLEN_OUTPUT = "y";
  /** The symbolic length of {@value #FIXEDLEN}'s input and output. */
  public static final String FIXEDLEN_LENGTH = "n";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ShapeModels() {}

  /** Input name of {@value #TYPES} for an OIP datatype, e.g. {@code in_int64}. */
  public static String typesInput(String datatype) {
    return "in_" + datatype.toLowerCase();
  }

  public static String typesOutput(String datatype) {
    return "out_" + datatype.toLowerCase();
  }

  /** Writes all five models under {@code root}; returns the version directories written. */
  public static List<Path> writeAll(Path root) throws IOException {
    List<Path> written = new ArrayList<>();
    written.add(writeZipMap(root));
    written.add(writeTypes(root));
    written.add(writeSeq(root));
    written.add(writeNoBatch(root));
    written.add(writeFixedLen(root));
    return written;
  }

  /**
   * {@value #ZIPMAP}: the graph skl2onnx writes for a multinomial LogisticRegression with default
   * options: LinearClassifier (SOFTMAX) → label and probability_tensor, Normalizer L1 →
   * probabilities, Cast label → {@value #ZIPMAP_LABEL} INT64 [N], ZipMap → {@value
   * #ZIPMAP_PROBABILITY} seq(map(int64, float)).
   */
  public static Path writeZipMap(Path root) throws IOException {
    int classes = ZIPMAP_CLASSES.size();
    Random random = new Random(11);
    float[] coefficients = new float[classes * ZIPMAP_FEATURES]; // one row per class
    for (int i = 0; i < coefficients.length; i++) {
      coefficients[i] = (float) (random.nextGaussian() * 1.5);
    }
    float[] intercepts = new float[classes];
    for (int i = 0; i < classes; i++) {
      intercepts[i] = (float) (random.nextGaussian() * 0.2);
    }
    long[] labels = ZIPMAP_CLASSES.stream().mapToLong(Long::longValue).toArray();
    OnnxGraphWriter graph = new OnnxGraphWriter(ZIPMAP + "_v" + VERSION)
        // skl2onnx imports ai.onnx.ml at version 1; all three operators exist since then
        .opset(ML_DOMAIN, 1)
        .input(ZIPMAP_INPUT, FLOAT, ZIPMAP_BATCH, ZIPMAP_FEATURES);
    graph.nodeInDomain(ML_DOMAIN, "LinearClassifier", List.of(ZIPMAP_INPUT), List.of("label", "probability_tensor"),
        Attribute.ofInts("classlabels_ints", labels),
        Attribute.ofFloats("coefficients", coefficients),
        Attribute.ofFloats("intercepts", intercepts),
        Attribute.ofInt("multi_class", 0),
        Attribute.ofString("post_transform", "SOFTMAX"));
    graph.nodeInDomain(ML_DOMAIN, "Normalizer", List.of("probability_tensor"), List.of("probabilities"),
        Attribute.ofString("norm", "L1"));
    graph.node("Cast", List.of("label"), List.of(ZIPMAP_LABEL), Attribute.ofInt("to", INT64.code));
    graph.nodeInDomain(ML_DOMAIN, "ZipMap", List.of("probabilities"), List.of(ZIPMAP_PROBABILITY),
        Attribute.ofInts("classlabels_int64s", labels));
    graph.output(ZIPMAP_LABEL, INT64, ZIPMAP_BATCH)
        .output(ZIPMAP_PROBABILITY, ValueType.sequence(ValueType.map(INT64, ValueType.unshaped(FLOAT))));
    Map<String, Object> probability = spec(ZIPMAP_PROBABILITY, "FP32", -1, classes);
    probability.put("classes", ZIPMAP_CLASSES);
    return write(root, ZIPMAP, graph.toByteArray(),
        List.of(spec(ZIPMAP_INPUT, "FP32", -1, ZIPMAP_FEATURES)),
        List.of(spec(ZIPMAP_LABEL, "INT64", -1), probability),
        "LogisticRegression 4 features, 3 classes, as skl2onnx exports it: label and ZipMap probabilities");
  }

  /**
   * {@value #TYPES}: for each datatype D, {@code out_d = in_d + 1} (INT64, INT32, FP64, FP16, UINT8),
   * {@code out_bool = Not(in_bool)}; every tensor [batch, 3]. Default-domain opset 14.
   */
  public static Path writeTypes(Path root) throws IOException {
    // opset 14: Add's schema admits uint8 (and int8) only from 14 on; 13 refuses the model at load
    OnnxGraphWriter graph = new OnnxGraphWriter(TYPES + "_v" + VERSION).opset("", 14);
    List<Map<String, Object>> inputs = new ArrayList<>();
    List<Map<String, Object>> outputs = new ArrayList<>();
    for (String datatype : TYPES_DATATYPES) {
      ElementType type = elementType(datatype);
      String in = typesInput(datatype);
      String out = typesOutput(datatype);
      graph.input(in, type, BATCH, TYPES_WIDTH).output(out, type, BATCH, TYPES_WIDTH);
      if (type == BOOL) {
        // Add is not defined for bool; Not shows the values were read, not just passed along
        graph.node("Not", List.of(in), List.of(out));
      } else {
        String one = "one_" + datatype.toLowerCase();
        graph.initializer(one, type, new long[0], one(type));
        graph.node("Add", List.of(in, one), List.of(out));
      }
      inputs.add(spec(in, datatype, -1, TYPES_WIDTH));
      outputs.add(spec(out, datatype, -1, TYPES_WIDTH));
    }
    return write(root, TYPES, graph.toByteArray(), inputs, outputs,
        "One input per datatype (INT64, INT32, BOOL, FP16, FP64, UINT8), [batch, 3]: out = in + 1, bool negated");
  }

  /**
   * {@value #SEQ}: {@code hidden = table[input_ids] * mask[..., None]} FP32 [batch, sequence, 4] and
   * {@code pooled = sum(hidden, 1) / max(sum(mask, 1), 1e-9)} FP32 [batch, 4], the mean over the
   * real tokens as sentence encoders pool. Row 0 of the table (the pad id) is not zero, so a wrong
   * mask changes both outputs.
   */
  public static Path writeSeq(Path root) throws IOException {
    Random random = new Random(23);
    float[] table = new float[SEQ_VOCABULARY * SEQ_WIDTH];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) random.nextGaussian();
    }
    OnnxGraphWriter graph = new OnnxGraphWriter(SEQ + "_v" + VERSION)
        .input(SEQ_INPUT_IDS, INT64, BATCH, SEQUENCE)
        .input(SEQ_ATTENTION_MASK, INT64, BATCH, SEQUENCE)
        .initializer("embeddings", new long[] {SEQ_VOCABULARY, SEQ_WIDTH}, table)
        // opset 13 takes Unsqueeze's and ReduceSum's axes as an INT64 input, not an attribute
        .initializerInt64("axis_last", new long[] {1}, new long[] {-1})
        .initializerInt64("axis_sequence", new long[] {1}, new long[] {1})
        .initializer("epsilon", new long[0], new float[] {1e-9f});
    graph.node("Gather", List.of("embeddings", SEQ_INPUT_IDS), List.of("embedded"), Attribute.ofInt("axis", 0))
        .node("Cast", List.of(SEQ_ATTENTION_MASK), List.of("mask"), Attribute.ofInt("to", FLOAT.code))
        .node("Unsqueeze", List.of("mask", "axis_last"), List.of("mask3"))
        .node("Mul", List.of("embedded", "mask3"), List.of(SEQ_HIDDEN))
        .node("ReduceSum", List.of(SEQ_HIDDEN, "axis_sequence"), List.of("summed"), Attribute.ofInt("keepdims", 0))
        .node("ReduceSum", List.of("mask3", "axis_sequence"), List.of("count"), Attribute.ofInt("keepdims", 0))
        // an all-padding row divides 0 by epsilon (0) rather than by 0 (NaN)
        .node("Max", List.of("count", "epsilon"), List.of("count_safe"))
        .node("Div", List.of("summed", "count_safe"), List.of(SEQ_POOLED));
    graph.output(SEQ_HIDDEN, FLOAT, BATCH, SEQUENCE, SEQ_WIDTH).output(SEQ_POOLED, FLOAT, BATCH, SEQ_WIDTH);
    return write(root, SEQ, graph.toByteArray(),
        List.of(spec(SEQ_INPUT_IDS, "INT64", BATCH, SEQUENCE), spec(SEQ_ATTENTION_MASK, "INT64", BATCH, SEQUENCE)),
        List.of(spec(SEQ_HIDDEN, "FP32", BATCH, SEQUENCE, SEQ_WIDTH), spec(SEQ_POOLED, "FP32", BATCH, SEQ_WIDTH)),
        "Embedding lookup (vocabulary 50, width 4) with attention mask and mean pooling, dynamic sequence length");
  }

  /** {@value #NOBATCH}: {@code total = sum over the batch of x}, FP32 [4] (no batch dimension). */
  public static Path writeNoBatch(Path root) throws IOException {
    OnnxGraphWriter graph = new OnnxGraphWriter(NOBATCH + "_v" + VERSION)
        .input(NOBATCH_INPUT, FLOAT, BATCH, NOBATCH_WIDTH)
        .initializerInt64("axis_batch", new long[] {1}, new long[] {0});
    graph.node("ReduceSum", List.of(NOBATCH_INPUT, "axis_batch"), List.of(NOBATCH_OUTPUT), Attribute.ofInt("keepdims", 0));
    graph.output(NOBATCH_OUTPUT, FLOAT, NOBATCH_WIDTH);
    return write(root, NOBATCH, graph.toByteArray(),
        List.of(spec(NOBATCH_INPUT, "FP32", -1, NOBATCH_WIDTH)),
        List.of(spec(NOBATCH_OUTPUT, "FP32", NOBATCH_WIDTH)),
        "Sum over the batch: the output [4] has no batch dimension");
  }

  /**
   * {@value #FIXEDLEN}: {@code y = 2x}, FP32 [batch, n]; model.json sets {@code allow_padding: false}
   * on {@code x}: requests of different lengths must not be padded into one batch.
   */
  public static Path writeFixedLen(Path root) throws IOException {
    byte[] two = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2f).array();
    OnnxGraphWriter graph = new OnnxGraphWriter(FIXEDLEN + "_v" + VERSION)
        .input(FIXEDLEN_INPUT, FLOAT, BATCH, FIXEDLEN_LENGTH);
    // a Constant node rather than an initializer, so the TENSOR attribute is exercised by a model
    graph.node("Constant", List.of(), List.of("two"), Attribute.ofTensor("value", FLOAT, new long[0], two))
        .node("Mul", List.of(FIXEDLEN_INPUT, "two"), List.of(FIXEDLEN_OUTPUT));
    graph.output(FIXEDLEN_OUTPUT, FLOAT, BATCH, FIXEDLEN_LENGTH);
    Map<String, Object> x = spec(FIXEDLEN_INPUT, "FP32", BATCH, FIXEDLEN_LENGTH);
    x.put("allow_padding", false);
    return write(root, FIXEDLEN, graph.toByteArray(),
        List.of(x), List.of(spec(FIXEDLEN_OUTPUT, "FP32", BATCH, FIXEDLEN_LENGTH)),
        "y = 2x over a variable length n that must not be padded");
  }

  /** The ONNX element type of an OIP datatype name used here. */
  public static ElementType elementType(String datatype) {
    return switch (datatype) {
      case "FP32" -> FLOAT;
      case "INT64" -> INT64;
      case "INT32" -> INT32;
      case "BOOL" -> BOOL;
      case "FP16" -> FLOAT16;
      case "FP64" -> DOUBLE;
      case "UINT8" -> UINT8;
      default -> throw new IllegalArgumentException("No ONNX element type for " + datatype);
    };
  }

  /** The scalar 1 of {@code type}, little-endian. */
  private static byte[] one(ElementType type) {
    ByteBuffer b;
    switch (type) {
      case INT64 -> b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1);
      case INT32 -> b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(1);
      case DOUBLE -> b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(1);
      case FLOAT16 -> b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3C00); // 1.0
      case UINT8 -> b = ByteBuffer.allocate(1).put((byte) 1);
      default -> throw new IllegalArgumentException("No constant one for " + type);
    }
    return b.array();
  }

  /** A model.json input/output: name, datatype, shape (sizes, -1 or symbolic names). */
  private static Map<String, Object> spec(String name, String datatype, Object... shape) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("name", name);
    spec.put("datatype", datatype);
    spec.put("shape", List.of(shape));
    return spec;
  }

  /** Writes {@code root/name/1/model.onnx} and its model.json (fields as ModelConfig names them). */
  private static Path write(Path root, String name, byte[] onnx, List<Map<String, Object>> inputs,
      List<Map<String, Object>> outputs, String description) throws IOException {
    Path dir = root.resolve(name).resolve(VERSION);
    Files.createDirectories(dir);
    Files.write(dir.resolve("model.onnx"), onnx);
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("name", name);
    config.put("version", VERSION);
    config.put("max_batch_size", MAX_BATCH_SIZE);
    config.put("inputs", inputs);
    config.put("outputs", outputs);
    config.put("sha256", Sha256.hex(onnx));
    config.put("description", description);
    JSON.writeValue(dir.resolve("model.json").toFile(), config);
    return dir;
  }
}

package io.kinfer.worker.repository;

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
import ai.onnxruntime.ValueInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.repository.ModelConfig.Dim;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a servable version from a bare model.onnx, as Triton auto-completes a config: names,
 * datatypes and shapes come from ONNX Runtime's view of the graph (symbolic dimension names kept,
 * so an output dimension named like an input dimension is cut back after padding), the sha256 from
 * the bytes written. Refuses, with the reason, what the worker could not serve: external weights,
 * inputs or outputs without a batch dimension, unsupported element types.
 */
public final class ModelImporter {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelImporter() {}

  /** What to import and under which name; {@code text} makes it a text model (null: tensors in, tensors out). */
  public record Request(Path onnx, Path repository, String name, String version, int maxBatchSize,
      Map<String, Long> maxDims, String description, Text text) {
    public Request(Path onnx, Path repository, String name, String version, int maxBatchSize,
        Map<String, Long> maxDims, String description) {
      this(onnx, repository, name, version, maxBatchSize, maxDims, description, null);
    }
  }

  /**
   * A text model's pre- and post-processing: its Hugging Face tokenizer.json, pooling ("mean" or
   * "cls"), L2 normalisation, and truncation to {@code maxLength} tokens (null: the sequence
   * dimension's max_dims bound, at most 512).
   * With {@code labels} (one class name per line) it is a classifier instead: the graph outputs logits
   * [batch, classes], {@code activation} (softmax when null, sigmoid, none) makes them scores.
   */
  public record Text(Path tokenizer, String pooling, boolean normalize, Integer maxLength, Path labels,
      String activation) {
    public Text(Path tokenizer, String pooling, boolean normalize, Integer maxLength) {
      this(tokenizer, pooling, normalize, maxLength, null, null);
    }
  }

  static final String TOKENIZER_FILE = "tokenizer.json";
  static final String LABELS_FILE = "labels.txt";
  private static final long DEFAULT_MAX_LENGTH = 512;

  /** Reads and checks {@code onnx}, then writes {@code repository/name/version/} with model.onnx and model.json. */
  public static ModelConfig run(Request request) throws IOException {
    byte[] bytes = Files.readAllBytes(request.onnx());
    List<String> external = OnnxExternalData.locations(bytes);
    if (!external.isEmpty()) {
      throw new ModelLoadException(request.onnx() + " references external data " + external + "; the worker loads"
          + " model.onnx alone and checks its sha256, so save the model with its weights inside (onnx.save_model("
          + "model, path, save_as_external_data=False); models over 2 GB cannot be served this way)");
    }
    ModelRepository.checkNames(new ModelVersion(request.name(), request.version()));
    ModelConfig config = describe(bytes, request);
    byte[] tokenizer = null;
    byte[] labels = null;
    if (request.text() != null) {
      tokenizer = Files.readAllBytes(request.text().tokenizer());
      labels = request.text().labels() == null ? null : Files.readAllBytes(request.text().labels());
      config = withText(config, request.text(), tokenizer, labels);
      checkText(config, bytes, tokenizer, labels);
    }
    Path dir = request.repository().resolve(request.name()).resolve(request.version());
    if (Files.exists(dir.resolve(ModelRepository.CONFIG_FILE))) {
      throw new ModelLoadException(dir + " already holds a version; versions are immutable, import under a new one");
    }
    Files.createDirectories(dir);
    Files.write(dir.resolve(ModelRepository.MODEL_FILE), bytes);
    if (tokenizer != null) {
      Files.write(dir.resolve(TOKENIZER_FILE), tokenizer);
    }
    if (labels != null) {
      Files.write(dir.resolve(LABELS_FILE), labels);
    }
    JSON.writeValue(dir.resolve(ModelRepository.CONFIG_FILE).toFile(), config);
    return config;
  }

  private static ModelConfig withText(ModelConfig config, Text text, byte[] tokenizer, byte[] labels) {
    if (tokenizer.length > ModelRepository.MAX_TOKENIZER_BYTES) {
      throw new ModelLoadException(text.tokenizer() + " is " + tokenizer.length + " bytes, over the limit of "
          + ModelRepository.MAX_TOKENIZER_BYTES + " for a tokenizer");
    }
    long maxLength = text.maxLength() != null ? text.maxLength() : DEFAULT_MAX_LENGTH;
    if (text.maxLength() == null) {
      for (TensorSpec in : config.inputs()) {
        if (in.rank() == 2) {
          maxLength = Math.min(maxLength, config.maxDim(in.shape().get(1).symbol()));
        }
      }
    }
    if (labels != null && labels.length > ModelRepository.MAX_LABELS_BYTES) {
      throw new ModelLoadException(text.labels() + " is " + labels.length + " bytes, over the limit of "
          + ModelRepository.MAX_LABELS_BYTES + " for a labels file");
    }
    ModelConfig.TextSpec spec = labels == null
        ? new ModelConfig.TextSpec(TOKENIZER_FILE, Sha256.hex(tokenizer), (int) maxLength, null, text.pooling(),
            text.normalize() ? Boolean.TRUE : null, null)
        : new ModelConfig.TextSpec(TOKENIZER_FILE, Sha256.hex(tokenizer), (int) maxLength, null, null, null, null,
            ModelConfig.TextSpec.CLASSIFY, text.activation(), LABELS_FILE, Sha256.hex(labels));
    return new ModelConfig(config.name(), config.version(), config.maxBatchSize(), config.inputs(), config.outputs(),
        config.sha256(), config.description(), config.allowPadding(), config.maxDims(), spec);
  }

  /** Loads the version as the worker will (graph, tokenizer, one text) so a bad import fails here, not there. */
  private static void checkText(ModelConfig config, byte[] onnx, byte[] tokenizer, byte[] labels) {
    try (io.kinfer.worker.engine.OnnxEngine engine = new io.kinfer.worker.engine.OnnxEngine(
        io.kinfer.worker.engine.EngineOptions.cpu())) {
      engine.load(new ModelRepository.VerifiedModel(new ModelVersion(config.name(), config.version()), config, onnx,
          tokenizer, labels));
    }
  }

  /** model.json for these bytes, without writing anything. */
  static ModelConfig describe(byte[] onnx, Request request) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(onnx, options)) {
      List<TensorSpec> inputs = new ArrayList<>();
      for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
        inputs.add(tensorSpec(e.getKey(), e.getValue().getInfo(), "input"));
      }
      List<TensorSpec> outputs = new ArrayList<>();
      for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
        ValueInfo info = e.getValue().getInfo();
        outputs.add(info instanceof SequenceInfo seq && seq.isSequenceOfMaps()
            ? zipMapSpec(env, session, e.getKey(), inputs) : tensorSpec(e.getKey(), info, "output"));
      }
      String description = request.description() != null ? request.description()
          : "Imported from " + request.onnx().getFileName() + " (producer " + session.getMetadata().getProducerName()
              + ")";
      return new ModelConfig(request.name(), request.version(), request.maxBatchSize(), inputs, outputs,
          Sha256.hex(onnx), description, null, request.maxDims() == null || request.maxDims().isEmpty()
              ? null : request.maxDims());
    } catch (OrtException e) {
      throw new ModelLoadException("ONNX Runtime cannot load " + request.onnx() + ": " + e.getMessage(), e);
    }
  }

  private static TensorSpec tensorSpec(String name, ValueInfo info, String kind) {
    if (!(info instanceof TensorInfo tensor)) {
      throw new ModelLoadException(kind + " '" + name + "' is " + info + "; the worker serves tensors (and ZipMap"
          + " outputs, a sequence of maps)");
    }
    String datatype = datatype(tensor.type, kind, name);
    long[] shape = tensor.getShape();
    String[] names = tensor.getDimensionNames();
    if (shape.length == 0 || shape[0] >= 0) {
      throw new ModelLoadException(kind + " '" + name + "' has shape " + Arrays.toString(shape) + ": no variable"
          + " batch dimension first. Re-export with it dynamic (torch.onnx.export dynamic_axes={'" + name
          + "': {0: 'batch'}}; skl2onnx: initial_types with None as the first dimension)");
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = 0; i < shape.length; i++) {
      dims.add(shape[i] >= 0 ? Dim.fixed(shape[i]) : Dim.variable(i < names.length ? names[i] : null));
    }
    return new TensorSpec(name, datatype, dims);
  }

  private static String datatype(OnnxJavaType type, String kind, String name) {
    return switch (type) {
      case FLOAT -> "FP32";
      case DOUBLE -> "FP64";
      case FLOAT16 -> "FP16";
      case INT64 -> "INT64";
      case INT32 -> "INT32";
      case INT16 -> "INT16";
      case INT8 -> "INT8";
      case UINT8 -> "UINT8";
      case BOOL -> "BOOL";
      default -> throw new ModelLoadException(kind + " '" + name + "' has element type " + type + ", which the worker"
          + " does not serve (FP32, FP64, FP16, INT64, INT32, INT16, INT8, UINT8, BOOL)");
    };
  }

  /**
   * A ZipMap output (one map of class to probability per row) becomes an FP32 tensor of one
   * column per class. The graph's metadata does not list the classes, so one row of zeros is run
   * and the classes are read off its map, sorted (numerically when they are numbers).
   */
  private static TensorSpec zipMapSpec(OrtEnvironment env, OrtSession session, String name, List<TensorSpec> inputs)
      throws OrtException {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (TensorSpec in : inputs) {
        long[] dims = in.shape().stream().mapToLong(d -> d.isFixed() ? d.size() : 1).toArray();
        long elements = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        int bytes = switch (in.datatype()) {
          case "FP64", "INT64" -> 8;
          case "FP32", "INT32" -> 4;
          case "FP16", "INT16" -> 2;
          default -> 1;
        };
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) (elements * bytes)).order(ByteOrder.nativeOrder());
        OnnxJavaType type = ((TensorInfo) session.getInputInfo().get(in.name()).getInfo()).type;
        feeds.put(in.name(), OnnxTensor.createTensor(env, zeros, dims, type));
      }
      try (OrtSession.Result result = session.run(feeds, java.util.Set.of(name))) {
        List<? extends OnnxValue> maps = ((OnnxSequence) result.get(0)).getValue();
        List<String> classes = ((OnnxMap) maps.get(0)).getValue().keySet().stream().map(String::valueOf)
            .sorted(Comparator.comparing((String c) -> c.matches("-?\\d+") ? Long.parseLong(c) : Long.MAX_VALUE)
                .thenComparing(Comparator.naturalOrder()))
            .toList();
        return new TensorSpec(name, "FP32", List.of(Dim.variable("batch"), Dim.fixed(classes.size())), null, null,
            null, classes);
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  /** Human-readable signature lines of a version, as {@code ops models inspect} prints them. */
  public static List<String> signature(ModelConfig config) {
    List<String> lines = new ArrayList<>();
    lines.add(config.name() + ":" + config.version() + "  max_batch_size " + config.maxBatchSize()
        + (config.paddingAllowed() ? "" : "  (no padding)")
        + (config.maxDims() == null ? "" : "  max_dims " + config.maxDims()));
    config.requestInputs().forEach(t -> lines.add("  input  " + line(t)));
    config.requestOutputs().forEach(t -> lines.add("  output " + line(t)));
    lines.add("  sha256 " + config.sha256());
    if (config.isText()) {
      ModelConfig.TextSpec text = config.text();
      lines.add("  text   tokenizer " + text.tokenizer() + " (sha256 " + text.tokenizerSha256() + "), max_length "
          + text.maxLength() + (text.classifier()
              ? ", classifier: " + text.activationOrDefault() + " over the logits, class names " + text.labels()
                  + " (sha256 " + text.labelsSha256() + "), top_k by request parameter"
              : ", pooling " + text.pooling() + (text.normalized() ? ", L2-normalised" : "")));
      config.inputs().forEach(t -> lines.add("  graph input  " + line(t)));
      config.outputs().forEach(t -> lines.add("  graph output " + line(t)));
    }
    return lines;
  }

  private static String line(TensorSpec t) {
    return t.name() + "  " + t.datatype() + " " + t.shape() + (t.pad() != null ? "  pad " + t.pad() : "")
        + (t.paddingAllowed() ? "" : "  (no padding)") + (t.classes() != null ? "  ZipMap classes " + t.classes() : "");
  }
}

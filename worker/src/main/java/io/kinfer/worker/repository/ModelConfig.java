package io.kinfer.worker.repository;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A version's {@code model.json}, Triton-style: what the model takes and returns, its largest batch,
 * and the sha256 of {@code model.onnx} that must match before it is loaded.
 *
 * @param allowPadding false when requests of different shapes must never share a batch (each
 *     batch then holds requests of one shape); null or true lets the batcher pad
 * @param maxDims upper bound per symbolic dimension (e.g. {@code "sequence_length": 512} for a
 *     transformer's position table), checked on every request before anything is allocated
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelConfig(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("max_batch_size") int maxBatchSize,
    @JsonProperty("inputs") List<TensorSpec> inputs,
    @JsonProperty("outputs") List<TensorSpec> outputs,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("description") String description,
    @JsonProperty("allow_padding") Boolean allowPadding,
    @JsonProperty("max_dims") Map<String, Long> maxDims,
    @JsonProperty("text") TextSpec text) {

  public ModelConfig(String name, String version, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs,
      String sha256, String description) {
    this(name, version, maxBatchSize, inputs, outputs, sha256, description, null, null, null);
  }

  public ModelConfig(String name, String version, int maxBatchSize, List<TensorSpec> inputs, List<TensorSpec> outputs,
      String sha256, String description, Boolean allowPadding, Map<String, Long> maxDims) {
    this(name, version, maxBatchSize, inputs, outputs, sha256, description, allowPadding, maxDims, null);
  }

  /** The name of a text model's one request input. */
  public static final String TEXT_INPUT = "text";
  /** The name of a text embedding model's one answer. */
  public static final String EMBEDDING_OUTPUT = io.kinfer.topology.shadow.ShadowComparator.EMBEDDING_OUTPUT;

  public boolean isText() {
    return text != null;
  }

  /**
   * What a request carries: the graph's inputs, or for a text model its one string, {@code text}
   * BYTES [1] (the worker tokenizes it).
   */
  public List<TensorSpec> requestInputs() {
    return text == null ? inputs : List.of(new TensorSpec(TEXT_INPUT, "BYTES", List.of(Dim.fixed(1))));
  }

  /** The top class of a text classifier's answer. */
  public static final String LABEL_OUTPUT = io.kinfer.topology.shadow.ShadowComparator.LABEL_OUTPUT;
  /** A text classifier's top-k scores, highest first. */
  public static final String SCORES_OUTPUT = "scores";
  /** The class names of {@link #SCORES_OUTPUT}, in its order. */
  public static final String LABELS_OUTPUT = "labels";
  /** Request parameter: how many classes a text classifier answers (default: all). */
  public static final String TOP_K_PARAMETER = "top_k";

  /**
   * What an answer carries: the graph's outputs; for a text embedding model {@code embedding} FP32
   * [1, dim]; for a text classifier {@code label} BYTES [1], {@code scores} FP32 [1, k] and {@code
   * labels} BYTES [k].
   */
  public List<TensorSpec> requestOutputs() {
    if (text == null) {
      return outputs;
    }
    if (text.classifier()) {
      return List.of(new TensorSpec(LABEL_OUTPUT, "BYTES", List.of(Dim.fixed(1))),
          new TensorSpec(SCORES_OUTPUT, "FP32", List.of(Dim.fixed(1), Dim.variable("k"))),
          new TensorSpec(LABELS_OUTPUT, "BYTES", List.of(Dim.variable("k"))));
    }
    TensorSpec hidden = text.hiddenOutput(this);
    Dim width = hidden == null || hidden.rank() != 3 ? Dim.variable(null) : hidden.shape().get(2);
    return List.of(new TensorSpec(EMBEDDING_OUTPUT, "FP32", List.of(Dim.fixed(1), width)));
  }

  /**
   * A text model's pre- and post-processing, kept in its version directory: the Hugging Face
   * {@code tokenizer.json} (checked against {@code tokenizer_sha256} like model.onnx), truncation to
   * {@code max_length} tokens (padding is the batcher's: to the batch's longest), at most {@code
   * max_text_bytes} UTF-8 bytes per request, then {@code pooling} ("mean" over the attention mask or
   * "cls") of the graph output {@code output} ([batch, sequence, dim]; the only output when unset)
   * and L2 normalisation when {@code normalize}. A classifier ({@code task} "classify") instead reads
   * logits [batch, classes] from {@code output}, applies {@code activation} ("softmax", the default,
   * "sigmoid" for multi-label, or "none") and names the classes from {@code labels}, a file of one
   * class name per line checked against {@code labels_sha256}.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TextSpec(
      @JsonProperty("tokenizer") String tokenizer,
      @JsonProperty("tokenizer_sha256") String tokenizerSha256,
      @JsonProperty("max_length") int maxLength,
      @JsonProperty("max_text_bytes") Integer maxTextBytes,
      @JsonProperty("pooling") String pooling,
      @JsonProperty("normalize") Boolean normalize,
      @JsonProperty("output") String output,
      @JsonProperty("task") String task,
      @JsonProperty("activation") String activation,
      @JsonProperty("labels") String labels,
      @JsonProperty("labels_sha256") String labelsSha256) {
    public static final String MEAN = "mean";
    public static final String CLS = "cls";
    public static final String EMBED = "embed";
    public static final String CLASSIFY = "classify";
    public static final String SOFTMAX = "softmax";
    public static final String SIGMOID = "sigmoid";
    public static final String NONE = "none";
    public static final int DEFAULT_MAX_TEXT_BYTES = 64 * 1024;

    /** An embedding model's text section. */
    public TextSpec(String tokenizer, String tokenizerSha256, int maxLength, Integer maxTextBytes, String pooling,
        Boolean normalize, String output) {
      this(tokenizer, tokenizerSha256, maxLength, maxTextBytes, pooling, normalize, output, null, null, null, null);
    }

    public boolean classifier() {
      return CLASSIFY.equals(task);
    }

    /** The classifier's activation: softmax unless model.json says otherwise. */
    public String activationOrDefault() {
      return activation == null ? SOFTMAX : activation;
    }

    public int textBytesLimit() {
      return maxTextBytes == null ? DEFAULT_MAX_TEXT_BYTES : maxTextBytes;
    }

    public boolean normalized() {
      return normalize != null && normalize;
    }

    /** The graph output that holds the token embeddings, or null when it cannot be told. */
    public TensorSpec hiddenOutput(ModelConfig config) {
      for (TensorSpec out : config.outputs()) {
        if (output == null ? config.outputs().size() == 1 : out.name().equals(output)) {
          return out;
        }
      }
      return null;
    }
  }

  public ModelConfig {
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
    maxDims = maxDims == null ? null : Map.copyOf(maxDims);
  }

  public boolean paddingAllowed() {
    return allowPadding == null || allowPadding;
  }

  /** The bound of a symbolic dimension, or {@link Long#MAX_VALUE} when model.json sets none. */
  public long maxDim(String symbol) {
    Long max = symbol == null || maxDims == null ? null : maxDims.get(symbol);
    return max == null ? Long.MAX_VALUE : max;
  }

  /**
   * One input or output. {@code shape} includes the batch dimension first; each dimension is a
   * size, -1 (variable) or a symbolic name taken from the ONNX graph (variable; two dimensions with
   * one name always have the same size, which is how an output dimension says which input
   * dimension it follows). NaN and Infinity are refused in floating-point inputs unless {@code
   * allow_non_finite} is true. An input is padded with {@code pad} (default 0) when it shares a
   * batch with longer requests, unless {@code allow_padding} is false. {@code classes} names the
   * class ids (numbers or strings) of a probability output that the model returns as a ZipMap (a sequence of maps): the
   * worker answers it as an FP32 tensor in that order.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TensorSpec(
      @JsonProperty("name") String name,
      @JsonProperty("datatype") String datatype,
      @JsonProperty("shape") List<Dim> shape,
      @JsonProperty("allow_non_finite") Boolean allowNonFinite,
      @JsonProperty("pad") Double pad,
      @JsonProperty("allow_padding") Boolean allowPadding,
      @JsonProperty("classes") List<String> classes) {

    public TensorSpec {
      shape = shape == null ? List.of() : List.copyOf(shape);
      classes = classes == null ? null : List.copyOf(classes);
    }

    public TensorSpec(String name, String datatype, List<Dim> shape) {
      this(name, datatype, shape, null, null, null, null);
    }

    /** A spec with a variable batch dimension first, then the given sizes (-1 for variable). */
    public static TensorSpec of(String name, String datatype, long... dims) {
      Dim[] all = new Dim[dims.length + 1];
      all[0] = Dim.variable(null);
      for (int i = 0; i < dims.length; i++) {
        all[i + 1] = dims[i] < 0 ? Dim.variable(null) : Dim.fixed(dims[i]);
      }
      return new TensorSpec(name, datatype, Arrays.asList(all));
    }

    public boolean nonFiniteAllowed() {
      return allowNonFinite != null && allowNonFinite;
    }

    public double padValue() {
      return pad == null ? 0 : pad;
    }

    public boolean paddingAllowed() {
      return allowPadding == null || allowPadding;
    }

    public int rank() {
      return shape.size();
    }
  }

  /**
   * One dimension: a fixed size, or variable with an optional symbolic name. Written to JSON as the
   * size, the name, or -1.
   */
  public record Dim(long size, String symbol) {
    public static Dim fixed(long size) {
      return new Dim(size, null);
    }

    public static Dim variable(String symbol) {
      return new Dim(-1, symbol == null || symbol.isBlank() ? null : symbol);
    }

    public boolean isFixed() {
      return size >= 0;
    }

    @JsonCreator
    static Dim parse(Object json) {
      if (json instanceof Number n) {
        long v = n.longValue();
        if (v < -1 || n.doubleValue() != v) {
          throw new IllegalArgumentException("A dimension is a size >= 0, -1 or a name, got " + json);
        }
        return v == -1 ? variable(null) : fixed(v);
      }
      if (json instanceof String s && !s.isBlank()) {
        return variable(s);
      }
      throw new IllegalArgumentException("A dimension is a size >= 0, -1 or a name, got " + json);
    }

    @JsonValue
    Object json() {
      return isFixed() ? (Object) size : symbol != null ? symbol : (Object) (-1L);
    }

    @Override
    public String toString() {
      return String.valueOf(json());
    }
  }
}

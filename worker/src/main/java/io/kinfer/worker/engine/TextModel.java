package io.kinfer.worker.engine;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.Dim;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import io.kinfer.worker.repository.ModelConfig.TextSpec;
import io.kinfer.worker.repository.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.LongBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A text model: each request is one string ({@code text} BYTES [1]); a batch is tokenized with the
 * version's own tokenizer.json, its token inputs padded to the batch's longest, and run once. An
 * embedding model pools each row's token embeddings (mean over the attention mask, or CLS) and
 * optionally L2-normalises them into {@code embedding} FP32 [1, dim]; a classifier turns each row's
 * logits into named classes and scores ({@link TextClassifier}).
 */
final class TextModel implements AutoCloseable {
  static final String INPUT_IDS = "input_ids";
  static final String ATTENTION_MASK = "attention_mask";
  static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final Set<String> TOKEN_INPUTS = Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

  private final String model;
  private final TextSpec spec;
  private final HuggingFaceTokenizer tokenizer;
  private final List<String> inputNames;
  private final long padId;
  private final String hiddenOutput;
  private final int dim;
  private final boolean meanPooling;
  private final int maxRows;
  /** Null for an embedding model. */
  private final TextClassifier classifier;

  private TextModel(String model, TextSpec spec, HuggingFaceTokenizer tokenizer, List<String> inputNames, long padId,
      String hiddenOutput, int dim, int maxRows, TextClassifier classifier) {
    this.model = model;
    this.spec = spec;
    this.tokenizer = tokenizer;
    this.inputNames = inputNames;
    this.padId = padId;
    this.hiddenOutput = hiddenOutput;
    this.dim = dim;
    this.meanPooling = TextSpec.MEAN.equals(spec.pooling());
    this.maxRows = maxRows;
    this.classifier = classifier;
  }

  /** Checks model.json's text section against the graph's declared inputs and outputs, then loads the tokenizer. */
  static TextModel create(ModelConfig config, byte[] tokenizerJson, byte[] labels, long maxBatchBytes) {
    String model = config.name() + ":" + config.version();
    TextSpec spec = config.text();
    checkSpec(model, spec);
    if (tokenizerJson == null) {
      throw new ModelLoadException(model + ": a text model needs its verified tokenizer");
    }
    TokenInputs inputs = tokenInputs(model, config, spec);
    TensorSpec hidden = spec.hiddenOutput(config);
    String outputs = config.outputs().stream().map(o -> o.name() + " " + o.datatype() + " " + o.shape()).toList()
        .toString();
    TextClassifier classifier = null;
    int dim;
    if (spec.classifier()) {
      if (hidden == null || !"FP32".equals(hidden.datatype()) || hidden.rank() != 2) {
        throw new ModelLoadException(model + ": a text classifier needs an FP32 output [batch, classes] of logits"
            + " (set text.output to its name when the graph has several); outputs are " + outputs);
      }
      Dim classes = hidden.shape().get(1);
      classifier = TextClassifier.create(model, spec, labels, classes.isFixed() ? classes.size() : -1);
      dim = classifier.classes();
    } else {
      if (hidden == null || !"FP32".equals(hidden.datatype()) || hidden.rank() != 3
          || !hidden.shape().get(2).isFixed()) {
        throw new ModelLoadException(model + ": text pooling needs an FP32 output [batch, sequence, dim] with a fixed"
            + " dim (set text.output to its name when the graph has several); outputs are " + outputs);
      }
      dim = (int) hidden.shape().get(2).size();
    }
    int maxRows = (int) Math.max(1, Math.min(config.maxBatchSize(), maxBatchBytes / (8L * spec.maxLength())));
    try {
      HuggingFaceTokenizer tokenizer = Tokenizers.load(tokenizerJson, spec.maxLength());
      return new TextModel(model, spec, tokenizer, inputs.names(), inputs.padId(), hidden.name(), dim, maxRows,
          classifier);
    } catch (IOException | RuntimeException e) {
      throw new ModelLoadException(model + ": cannot load " + spec.tokenizer() + " as a Hugging Face tokenizer: "
          + e.getMessage(), e);
    }
  }

  private static void checkSpec(String model, TextSpec spec) {
    if (spec.task() != null && !TextSpec.EMBED.equals(spec.task()) && !spec.classifier()) {
      throw new ModelLoadException(model + ": text.task must be \"embed\" or \"classify\", got " + spec.task());
    }
    if (!spec.classifier() && !TextSpec.MEAN.equals(spec.pooling()) && !TextSpec.CLS.equals(spec.pooling())) {
      throw new ModelLoadException(model + ": text.pooling must be \"mean\" or \"cls\", got " + spec.pooling());
    }
    if (spec.classifier() && spec.pooling() != null) {
      throw new ModelLoadException(model + ": a text classifier's graph pools itself (its output is logits); remove"
          + " text.pooling");
    }
  }

  /** The graph's token inputs in order, and the pad value of input_ids. */
  private record TokenInputs(List<String> names, long padId) {}

  private static TokenInputs tokenInputs(String model, ModelConfig config, TextSpec spec) {
    List<String> names = new ArrayList<>();
    long padId = 0;
    for (TensorSpec in : config.inputs()) {
      if (!TOKEN_INPUTS.contains(in.name()) || !"INT64".equals(in.datatype()) || in.rank() != 2) {
        throw new ModelLoadException(model + ": a text model's graph inputs must be INT64 [batch, sequence] among "
            + TOKEN_INPUTS + ", but it declares '" + in.name() + "' " + in.datatype() + " " + in.shape());
      }
      if (in.shape().get(1).isFixed()) {
        throw new ModelLoadException(model + ": input '" + in.name() + "' has a fixed sequence length "
            + in.shape().get(1) + "; a text model's sequence dimension must be variable (padded to the batch's"
            + " longest)");
      }
      if (spec.maxLength() < 1 || spec.maxLength() > config.maxDim(in.shape().get(1).symbol())) {
        throw new ModelLoadException(model + ": text.max_length must be between 1 and max_dims "
            + in.shape().get(1).symbol() + "=" + config.maxDim(in.shape().get(1).symbol()) + ", got "
            + spec.maxLength());
      }
      if (in.name().equals(INPUT_IDS)) {
        padId = (long) in.padValue();
      }
      names.add(in.name());
    }
    if (!names.contains(INPUT_IDS)) {
      throw new ModelLoadException(model + ": a text model's graph must take input_ids, it takes " + names);
    }
    return new TokenInputs(List.copyOf(names), padId);
  }

  int dim() {
    return dim;
  }

  /** Answers every request of the batch: an embedding or classes, or that request's own error. */
  void infer(OrtEnvironment env, OrtSession session, List<InferenceRequest> requests, Outcome[] outcomes)
      throws OrtException {
    List<Integer> ok = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    int[] topK = new int[requests.size()];
    String[] why = new String[1];
    for (int i = 0; i < requests.size(); i++) {
      Parsed parsed = text(requests.get(i));
      topK[i] = classifier == null || parsed.error() != null ? 0 : classifier.topK(requests.get(i), why);
      if (parsed.error() != null) {
        outcomes[i] = Outcome.failed(parsed.error());
      } else if (topK[i] < 0) {
        outcomes[i] = Outcome.failed(why[0]);
      } else {
        ok.add(i);
        texts.add(parsed.text());
      }
    }
    for (int from = 0; from < ok.size(); from += maxRows) {
      int to = Math.min(ok.size(), from + maxRows);
      List<Integer> rows = ok.subList(from, to);
      Encoding[] encodings = encode(texts.subList(from, to), rows, outcomes);
      run(env, session, rows, encodings, topK, outcomes);
    }
  }

  /** A request's string, or why it has none. */
  private record Parsed(String text, String error) {}

  /**
   * The request's string, or why it has none. Sizes are checked
   * before anything is decoded or copied.
   */
  private Parsed text(InferenceRequest request) {
    Tensor t = LoadedModel.find(request, ModelConfig.TEXT_INPUT);
    if (t == null) {
      return fail("Missing input 'text' for " + model + ": a text model takes one string, 'text' BYTES [1]; got "
          + request.getInputs().stream().map(Tensor::getName).toList());
    }
    if (t.getDatatype() != Datatype.BYTES) {
      return fail("Input 'text' of " + model + " must be BYTES (one UTF-8 string), got " + t.getDatatype());
    }
    if (!(t.getShape().size() == 1 && t.getShape().get(0) == 1)) {
      return fail("Input 'text' of " + model + " carries one string, so its shape must be [1], got " + t.getShape());
    }
    Parsed parsed = t.getRaw() != null ? fromRaw(t.getRaw(), spec.textBytesLimit()) : fromStrings(t,
        spec.textBytesLimit());
    if (parsed.error() == null && parsed.text().isBlank()) {
      return fail("Input 'text' of " + model + " is empty" + (parsed.text().isEmpty() ? "" : " (whitespace only)")
          + "; send the text to embed");
    }
    return parsed;
  }

  /** One length-prefixed UTF-8 string; the length is checked against the limit before anything is decoded. */
  private Parsed fromRaw(ByteBuffer wire, int limit) {
    ByteBuffer raw = wire.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (raw.remaining() < 4) {
      return fail("Input 'text' of " + model + ": raw BYTES must start with a 4-byte little-endian length, got "
          + raw.remaining() + " bytes");
    }
    long length = Integer.toUnsignedLong(raw.getInt());
    if (length > limit) {
      return fail("Input 'text' of " + model + " is " + length + " bytes, over max_text_bytes=" + limit);
    }
    if (length != raw.remaining()) {
      return fail("Input 'text' of " + model + ": raw BYTES declares one element of " + length + " bytes but "
          + raw.remaining() + " bytes follow the length prefix (shape [1] holds exactly one string)");
    }
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(raw);
      return new Parsed(chars.toString(), null);
    } catch (CharacterCodingException e) {
      return fail("Input 'text' of " + model + " is not valid UTF-8 (" + e.getMessage() + ")");
    }
  }

  private Parsed fromStrings(Tensor t, int limit) {
    List<String> strings = t.getData() == null ? List.of() : t.getData().getStrings();
    if (strings.size() != 1) {
      return fail("Input 'text' of " + model + " of shape [1] must carry exactly one string in data.strings, got "
          + strings.size());
    }
    String text = strings.get(0);
    if (text.length() > limit || utf8Length(text) > limit) {
      return fail("Input 'text' of " + model + " is " + utf8Length(text) + " bytes, over max_text_bytes=" + limit);
    }
    return new Parsed(text, null);
  }

  private static Parsed fail(String why) {
    return new Parsed(null, why);
  }

  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isHighSurrogate(c) ? 0 : Character.isLowSurrogate(c) ? 4 : 3;
    }
    return n;
  }

  /** Tokenizes a chunk at once; if the tokenizer refuses it, text by text so only the culprit fails. */
  private Encoding[] encode(List<String> texts, List<Integer> rows, Outcome[] outcomes) {
    try {
      return tokenizer.batchEncode(texts);
    } catch (RuntimeException batchFailed) {
      Encoding[] one = new Encoding[texts.size()];
      for (int r = 0; r < texts.size(); r++) {
        try {
          one[r] = tokenizer.encode(texts.get(r));
        } catch (RuntimeException e) {
          outcomes[rows.get(r)] = Outcome.failed("The tokenizer of " + model + " refused this text: " + e.getMessage());
        }
      }
      return one;
    }
  }

  private void run(OrtEnvironment env, OrtSession session, List<Integer> rows, Encoding[] encodings, int[] topK,
      Outcome[] outcomes) throws OrtException {
    List<Integer> live = new ArrayList<>();
    int length = 1;
    for (int r = 0; r < rows.size(); r++) {
      if (encodings[r] != null && encodings[r].getIds().length == 0) {
        // A tokenizer without special tokens can strip a text to nothing: pooling would answer
        // zeros (mean) or a padding row (CLS) as if it were an embedding.
        outcomes[rows.get(r)] = Outcome.failed("The tokenizer of " + model + " made no tokens of this text;"
            + " send text with words in it");
      } else if (encodings[r] != null) {
        live.add(r);
        length = Math.max(length, encodings[r].getIds().length);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    int n = live.size();
    long[] ids = new long[n * length];
    long[] mask = new long[n * length];
    long[] types = new long[n * length];
    java.util.Arrays.fill(ids, padId);
    for (int b = 0; b < n; b++) {
      Encoding e = encodings[live.get(b)];
      long[] rowIds = e.getIds();
      long[] rowMask = e.getAttentionMask();
      long[] rowTypes = e.getTypeIds();
      System.arraycopy(rowIds, 0, ids, b * length, rowIds.length);
      System.arraycopy(rowMask, 0, mask, b * length, rowMask.length);
      System.arraycopy(rowTypes, 0, types, b * length, rowTypes.length);
    }
    long[] shape = {n, length};
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (String name : inputNames) {
        long[] values = switch (name) {
          case INPUT_IDS -> ids;
          case ATTENTION_MASK -> mask;
          default -> types;
        };
        feeds.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
      }
      try (OrtSession.Result result = session.run(feeds, Set.of(hiddenOutput))) {
        OnnxTensor hidden = (OnnxTensor) result.get(hiddenOutput).orElseThrow();
        long[] got = hidden.getInfo().getShape();
        long[] want = classifier != null ? new long[] {n, dim} : new long[] {n, length, dim};
        if (!java.util.Arrays.equals(got, want)) {
          throw new IllegalStateException(model + ": output '" + hiddenOutput + "' has shape "
              + java.util.Arrays.toString(got) + " for " + n + " texts of " + length + " tokens; expected "
              + java.util.Arrays.toString(want) + (classifier != null ? " (one logit per class of " + spec.labels()
              + ")" : ""));
        }
        java.nio.FloatBuffer h = hidden.getFloatBuffer();
        for (int b = 0; b < n; b++) {
          int request = rows.get(live.get(b));
          outcomes[request] = classifier != null ? classifier.answer(h, b, topK[request])
              : Outcome.ok(List.of(embedding(h, b, length, mask)));
        }
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private Tensor embedding(java.nio.FloatBuffer hidden, int row, int length, long[] mask) {
    double[] sum = new double[dim];
    int base = row * length * dim;
    if (meanPooling) {
      long count = 0;
      for (int t = 0; t < length; t++) {
        if (mask[row * length + t] != 0) {
          count++;
          int at = base + t * dim;
          for (int d = 0; d < dim; d++) {
            sum[d] += hidden.get(at + d);
          }
        }
      }
      for (int d = 0; d < dim; d++) {
        sum[d] /= Math.max(count, 1);
      }
    } else {
      for (int d = 0; d < dim; d++) {
        sum[d] = hidden.get(base + d); // the first token: [CLS]
      }
    }
    double scale = 1;
    if (spec.normalized()) {
      double norm = 0;
      for (double v : sum) {
        norm += v * v;
      }
      scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    }
    ByteBuffer out = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : sum) {
      out.putFloat((float) (v * scale));
    }
    out.flip();
    return Tensor.newBuilder().setName(ModelConfig.EMBEDDING_OUTPUT).setDatatype(Datatype.FP32)
        .setShape(List.of(1L, (long) dim)).setRaw(out).build();
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}

package io.kinfer.worker.engine;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TextSpec;
import io.kinfer.worker.repository.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A text classifier's post-processing: one row of logits [classes] becomes the top class's name
 * ({@code label} BYTES [1]), the top-k scores after the activation ({@code scores} FP32 [1, k],
 * highest first) and their names ({@code labels} BYTES [k]); k is the request's {@code top_k}.
 * BYTES answers use OIP's raw form: a 4-byte little-endian length before each element.
 */
final class TextClassifier {
  private final String model;
  private final List<String> names;
  private final String activation;

  private TextClassifier(String model, List<String> names, String activation) {
    this.model = model;
    this.names = names;
    this.activation = activation;
  }

  /** @param classes the logits' class dimension, or -1 when the graph leaves it variable */
  static TextClassifier create(String model, TextSpec spec, byte[] labelsFile, long classes) {
    String activation = spec.activationOrDefault();
    if (!List.of(TextSpec.SOFTMAX, TextSpec.SIGMOID, TextSpec.NONE).contains(activation)) {
      throw new ModelLoadException(model + ": text.activation must be \"softmax\", \"sigmoid\" or \"none\", got "
          + activation);
    }
    if (labelsFile == null) {
      throw new ModelLoadException(model + ": a text classifier needs its verified labels file");
    }
    List<String> names = parse(model, spec.labels(), labelsFile);
    if (classes >= 0 && classes != names.size()) {
      throw new ModelLoadException(model + ": " + spec.labels() + " names " + names.size() + " classes but the"
          + " graph's logits have " + classes + "; one class name per line, in the model's class order");
    }
    return new TextClassifier(model, names, activation);
  }

  /** One class name per line (UTF-8; a final newline and CRLF endings allowed); blank names refused. */
  static List<String> parse(String model, String file, byte[] bytes) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new ModelLoadException(model + ": " + file + " is not valid UTF-8 (" + e.getMessage() + ")");
    }
    List<String> names = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    int count = lines.length > 0 && lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
    for (int i = 0; i < count; i++) {
      if (lines[i].isBlank()) {
        throw new ModelLoadException(model + ": line " + (i + 1) + " of " + file + " is blank; write one class name"
            + " per line");
      }
      names.add(lines[i]);
    }
    if (names.isEmpty()) {
      throw new ModelLoadException(model + ": " + file + " names no class");
    }
    return List.copyOf(names);
  }

  int classes() {
    return names.size();
  }

  /** The request's {@code top_k} (default: every class), or -1 with {@code why[0]} saying what is wrong. */
  int topK(InferenceRequest request, String[] why) {
    Object value = request.getParameters() == null ? null : request.getParameters().get(ModelConfig.TOP_K_PARAMETER);
    if (value == null) {
      return names.size();
    }
    try {
      int k = Integer.parseInt(value.toString().trim());
      if (k >= 1 && k <= names.size()) {
        return k;
      }
    } catch (NumberFormatException e) {
      // answered below, as for a number out of range
    }
    why[0] = "Parameter top_k of " + model + " must be a whole number from 1 to " + names.size() + " (its classes),"
        + " got '" + value + "'";
    return -1;
  }

  /** The answer of row {@code row} of {@code logits} ([rows, classes], row-major). */
  Outcome answer(FloatBuffer logits, int row, int k) {
    int c = names.size();
    double[] scores = new double[c];
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c; j++) {
      scores[j] = logits.get(row * c + j);
      max = Math.max(max, scores[j]);
    }
    if (TextSpec.SOFTMAX.equals(activation)) {
      double sum = 0;
      for (int j = 0; j < c; j++) {
        scores[j] = Math.exp(scores[j] - max); // shifted by the max: no overflow, same ratios
        sum += scores[j];
      }
      for (int j = 0; j < c; j++) {
        scores[j] /= sum;
      }
    } else if (TextSpec.SIGMOID.equals(activation)) {
      for (int j = 0; j < c; j++) {
        scores[j] = 1 / (1 + Math.exp(-scores[j]));
      }
    }
    Integer[] order = new Integer[c];
    Arrays.setAll(order, j -> j);
    Arrays.sort(order, Comparator.comparingDouble((Integer j) -> -scores[j])); // stable: ties keep class order
    ByteBuffer top = ByteBuffer.allocate(k * 4).order(ByteOrder.LITTLE_ENDIAN);
    List<String> topNames = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      top.putFloat((float) scores[order[i]]);
      topNames.add(names.get(order[i]));
    }
    top.flip();
    return Outcome.ok(List.of(
        bytes(ModelConfig.LABEL_OUTPUT, List.of(topNames.get(0)), List.of(1L)),
        Tensor.newBuilder().setName(ModelConfig.SCORES_OUTPUT).setDatatype(Datatype.FP32)
            .setShape(List.of(1L, (long) k)).setRaw(top).build(),
        bytes(ModelConfig.LABELS_OUTPUT, topNames, List.of((long) k))));
  }

  private static Tensor bytes(String name, List<String> values, List<Long> shape) {
    List<byte[]> utf8 = values.stream().map(v -> v.getBytes(StandardCharsets.UTF_8)).toList();
    ByteBuffer raw = ByteBuffer.allocate(utf8.stream().mapToInt(b -> 4 + b.length).sum()).order(ByteOrder.LITTLE_ENDIAN);
    utf8.forEach(b -> raw.putInt(b.length).put(b));
    raw.flip();
    return Tensor.newBuilder().setName(name).setDatatype(Datatype.BYTES).setShape(shape).setRaw(raw).build();
  }
}

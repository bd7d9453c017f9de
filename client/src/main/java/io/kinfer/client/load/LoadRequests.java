package io.kinfer.client.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import io.kinfer.worker.repository.ModelRepository;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code ops load} sends a model. The load generator has no engine, so it reads the model.json
 * files of the repository the workers load: a version with a {@code text} section takes strings (a
 * file's lines, or the generated {@link io.kinfer.worker.models.TextMix}), any other takes FP32
 * features [1, F]. Without a repository only the sample MLP's shape is known.
 */
public final class LoadRequests {
  /** The texts are held in memory for the whole run. */
  public static final long MAX_TEXTS_BYTES = 64L << 20;

  private LoadRequests() {}

  /**
   * @param models the model repository, or null
   * @param texts a file of one text per line, or null
   * @throws IllegalArgumentException when the model, repository and file do not fit together
   */
  public static RequestFactory factory(String prefix, long seed, String model, Path models, Path texts) throws IOException {
    List<ModelConfig> versions = models == null ? List.of() : versions(models, model);
    boolean text = !versions.isEmpty() && versions.get(0).isText();
    if (texts != null) {
      if (!versions.isEmpty() && !text) {
        throw new IllegalArgumentException("--texts: " + model + " is not a text model (its model.json has no text"
            + " section), so it takes tensors, not strings");
      }
      int limit = versions.stream().mapToInt(c -> c.text().textBytesLimit()).min().orElse(Integer.MAX_VALUE);
      List<String> lines = readTexts(texts, MAX_TEXTS_BYTES, limit);
      return RequestFactory.texts(prefix, model, index -> lines.get((int) (index % lines.size())));
    }
    if (text) {
      return RequestFactory.textMix(prefix, seed, model);
    }
    if (versions.isEmpty()) {
      if (!SampleModels.MLP.equals(model)) {
        throw new IllegalArgumentException("Add --models DIR (the workers' model repository) so the load generator"
            + " can read what " + model + " takes from its model.json, or --texts FILE for a text model");
      }
      return new RequestFactory(prefix, seed);
    }
    return new RequestFactory(prefix, seed, model, features(model, versions.get(0)));
  }

  /**
   * Every version of {@code model} in the repository; they must agree on taking text, since a
   * request is routed to any of them.
   */
  private static List<ModelConfig> versions(Path models, String model) throws IOException {
    ModelRepository repository = new ModelRepository(models, 0);
    ObjectMapper json = new ObjectMapper();
    List<ModelConfig> configs = new ArrayList<>();
    for (ModelVersion v : repository.list()) {
      if (v.model().equals(model)) {
        configs.add(json.readValue(repository.root().resolve(v.model()).resolve(v.version())
            .resolve(ModelRepository.CONFIG_FILE).toFile(), ModelConfig.class));
      }
    }
    if (configs.isEmpty()) {
      throw new IllegalArgumentException("No version of " + model + " in " + models + "; it has " + repository.list());
    }
    if (configs.stream().map(ModelConfig::isText).distinct().count() > 1) {
      throw new IllegalArgumentException("Versions of " + model + " disagree: some take text, some tensors ("
          + configs.stream().map(c -> c.version() + (c.isText() ? " text" : " tensors")).toList() + ")");
    }
    return configs;
  }

  /** F of a model taking one FP32 [batch, F] input: the only tensor shape this generator makes. */
  private static int features(String model, ModelConfig config) {
    List<TensorSpec> inputs = config.inputs();
    if (inputs.size() != 1 || !"FP32".equals(inputs.get(0).datatype()) || inputs.get(0).rank() != 2
        || !inputs.get(0).shape().get(1).isFixed()) {
      throw new IllegalArgumentException("ops load makes text or FP32 [1, F] features; " + model + " takes "
          + inputs.stream().map(i -> i.name() + " " + i.datatype() + " " + i.shape()).toList());
    }
    return (int) inputs.get(0).shape().get(1).size();
  }

  /**
   * The non-blank lines of a UTF-8 file (line ends \n or \r\n).
   *
   * @param maxTextBytes a line longer than this the worker would refuse, so it is refused here
   */
  public static List<String> readTexts(Path file, long maxBytes, int maxTextBytes) throws IOException {
    long size = Files.size(file);
    if (size > maxBytes) {
      throw new IllegalArgumentException("--texts " + file + " is " + size + " bytes, over the limit of " + maxBytes
          + " (the texts are held in memory): use a smaller sample");
    }
    String content;
    try {
      content = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("--texts " + file + " is not UTF-8 (" + e.getMessage() + ")", e);
    }
    List<String> texts = new ArrayList<>();
    String[] lines = content.split("\r?\n");
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      int bytes = lines[i].getBytes(StandardCharsets.UTF_8).length;
      if (bytes > maxTextBytes) {
        throw new IllegalArgumentException("--texts " + file + " line " + (i + 1) + " is " + bytes + " bytes, over"
            + " the model's max_text_bytes=" + maxTextBytes + ": the worker would refuse it");
      }
      texts.add(lines[i]);
    }
    if (texts.isEmpty()) {
      throw new IllegalArgumentException("--texts " + file + " has no texts (one per line; blank lines are skipped)");
    }
    return List.copyOf(texts);
  }
}

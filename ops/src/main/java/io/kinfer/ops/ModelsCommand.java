package io.kinfer.ops;

import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelImporter;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ops models generate|import|inspect}: the model repository. */
@Command(name = "models", description = "Manage the model repository.",
    subcommands = {ModelsCommand.Generate.class, ModelsCommand.Import.class, ModelsCommand.Inspect.class},
    mixinStandardHelpOptions = true)
final class ModelsCommand {

  @Command(name = "generate", description = "Write the sample models (mlp v1, v2) into DIR.")
  static final class Generate implements Callable<Integer> {
    @Parameters(index = "0", defaultValue = "models", description = "model repository (default: ${DEFAULT-VALUE})")
    Path dir;

    @Override
    public Integer call() throws Exception {
      for (Path written : SampleModels.writeAll(dir)) {
        System.out.println("wrote " + written);
      }
      return 0;
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = {"Add MODEL.onnx to a repository as NAME:V: model.onnx and a complete model.json (names,"
          + " datatypes and shapes from the ONNX graph, symbolic dimension names kept, sha256). Refuses what the"
          + " worker cannot serve, saying why.",
          "Example: models import all-MiniLM-L6-v2.onnx --repository models --name minilm --version 1"
              + " --max-dim sequence_length=512",
          "A text model (requests carry a string, answers an embedding): add --tokenizer tokenizer.json"
              + " --pooling mean|cls [--normalize] [--max-length N]; tokenizer.json is copied into the version"
              + " and its sha256 written to model.json.",
          "A text classifier (a string in, its classes out): --tokenizer tokenizer.json --labels labels.txt"
              + " [--activation softmax|sigmoid|none]; the graph's output is logits [batch, classes], labels.txt"
              + " one class name per line, copied with its sha256."})
  static final class Import implements Callable<Integer> {
    @Parameters(index = "0", description = "the ONNX model file") Path onnx;
    @Option(names = "--repository", required = true, description = "model repository directory") Path repository;
    @Option(names = "--name", required = true, description = "model name") String name;
    @Option(names = "--version", required = true, description = "version (a new directory; versions are immutable)")
    String version;
    @Option(names = "--max-batch-size", defaultValue = "64",
        description = "most rows per engine call (default: ${DEFAULT-VALUE})") int maxBatchSize;
    @Option(names = "--max-dim", description = "upper bound of a symbolic dimension, e.g. sequence_length=512"
        + " (a transformer's position table); repeatable") Map<String, Long> maxDims = new LinkedHashMap<>();
    @Option(names = "--description", description = "free text for model.json") String description;
    @Option(names = "--tokenizer", description = "Hugging Face tokenizer.json: makes a text model (text BYTES [1]"
        + " in, embedding FP32 [1, dim] out)") Path tokenizer;
    @Option(names = "--pooling", description = "text models: mean (over the attention mask) or cls") String pooling;
    @Option(names = "--normalize", description = "text models: L2-normalise the embedding") boolean normalize;
    @Option(names = "--max-length", description = "text models: truncate to this many tokens (default: the"
        + " sequence dimension's --max-dim, at most 512)") Integer maxLength;
    @Option(names = "--labels", description = "text classifiers: class names, one per line in the logits' order"
        + " (answers: label BYTES [1], scores FP32 [1, k], labels BYTES [k]; k = request parameter top_k)")
    Path labels;
    @Option(names = "--activation", description = "text classifiers: softmax (default), sigmoid (multi-label) or"
        + " none") String activation;

    @Override
    public Integer call() throws Exception {
      String refusal = refusal(this);
      if (refusal != null) {
        System.err.println(refusal);
        return 2;
      }
      try {
        ModelImporter.Text text = tokenizer == null ? null
            : new ModelImporter.Text(tokenizer, pooling, normalize, maxLength, labels, activation);
        ModelConfig config = ModelImporter.run(new ModelImporter.Request(onnx, repository, name, version,
            maxBatchSize, maxDims, description, text));
        System.out.println("wrote " + repository.resolve(name).resolve(version)
            + (text == null ? "/{model.onnx,model.json}" : labels == null ? "/{model.onnx,tokenizer.json,model.json}"
                : "/{model.onnx,tokenizer.json,labels.txt,model.json}"));
        ModelImporter.signature(config).forEach(System.out::println);
        return 0;
      } catch (ModelLoadException e) {
        System.err.println("Cannot import " + onnx + ": " + e.getMessage());
        return 2;
      }
    }
  }

  /** Why the options do not describe a model, or null. */
  private static String refusal(Import o) {
    if (o.tokenizer == null && textOptionGiven(o)) {
      return "--pooling, --normalize, --max-length, --labels and --activation describe a text model: add --tokenizer";
    }
    if (o.labels != null && (o.pooling != null || o.normalize)) {
      return "A text classifier's graph pools itself (its output is logits): drop --pooling and --normalize";
    }
    if (o.labels == null && o.activation != null) {
      return "--activation belongs to a text classifier: add --labels labels.txt";
    }
    if (o.tokenizer != null && o.labels == null && !"mean".equals(o.pooling) && !"cls".equals(o.pooling)) {
      return "A text model needs --pooling mean or --pooling cls (an embedding model), or --labels (a classifier)";
    }
    return null;
  }

  private static boolean textOptionGiven(Import o) {
    return o.pooling != null || o.normalize || o.maxLength != null || o.labels != null || o.activation != null;
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true,
      description = "Print a version's signature and check that the worker would load it (sha256, graph vs model.json,"
          + " warm-up).")
  static final class Inspect implements Callable<Integer> {
    @Parameters(index = "0", description = "a version directory, DIR/NAME/V") Path version;

    @Override
    public Integer call() {
      Path dir = version.toAbsolutePath().normalize();
      ModelVersion mv = new ModelVersion(dir.getParent().getFileName().toString(), dir.getFileName().toString());
      try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu())) {
        var verified = new ModelRepository(dir.getParent().getParent(), Long.MAX_VALUE).load(mv);
        ModelImporter.signature(verified.config()).forEach(System.out::println);
        engine.load(verified);
        String why = engine.model(mv).whyNotPaddable();
        System.out.println(why == null ? "  batching: requests of different shapes are padded into one batch"
            : "  batching: only requests of identical shape share a batch (" + why + ")");
        System.out.println(verified.config().isText()
            ? "  loads: model.onnx, tokenizer" + (verified.config().text().classifier() ? " and labels" : "")
                + " sha256 verified, graph matches model.json, warm-up text answered"
            : "  loads: sha256 verified, graph matches model.json, warm-up ran");
        return 0;
      } catch (ModelLoadException e) {
        System.err.println(mv + " would not load: " + e.getMessage());
        return 2;
      }
    }
  }
}

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
              + " --max-dim sequence_length=512"})
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

    @Override
    public Integer call() throws Exception {
      try {
        ModelConfig config = ModelImporter.run(new ModelImporter.Request(onnx, repository, name, version,
            maxBatchSize, maxDims, description));
        System.out.println("wrote " + repository.resolve(name).resolve(version) + "/{model.onnx,model.json}");
        ModelImporter.signature(config).forEach(System.out::println);
        return 0;
      } catch (ModelLoadException e) {
        System.err.println("Cannot import " + onnx + ": " + e.getMessage());
        return 2;
      }
    }
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
        System.out.println("  loads: sha256 verified, graph matches model.json, warm-up ran");
        return 0;
      } catch (ModelLoadException e) {
        System.err.println(mv + " would not load: " + e.getMessage());
        return 2;
      }
    }
  }
}

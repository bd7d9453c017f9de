package io.kinfer.ops;

import io.kinfer.worker.models.SampleModels;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ops models generate DIR}: writes the sample models into a model repository. */
@Command(name = "models", description = "Manage the model repository.",
    subcommands = ModelsCommand.Generate.class, mixinStandardHelpOptions = true)
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
}

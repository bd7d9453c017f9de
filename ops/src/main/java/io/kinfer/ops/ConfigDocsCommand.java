package io.kinfer.ops;

import io.kinfer.worker.config.WorkerConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Prints the worker's configuration reference (the table in docs/CONFIGURATION.md). */
@Command(name = "config-docs", description = "Print the worker configuration reference as Markdown.")
final class ConfigDocsCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.print(WorkerConfig.markdownTable());
    return 0;
  }
}

package io.kinfer.ops;

import io.kinfer.worker.WorkerMain;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ops worker [FILE]}: runs a worker against any Kafka cluster and Schema Registry. */
@Command(name = "worker", description = "Run a worker; settings from FILE and KINFER_* environment variables.")
final class WorkerCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", description = "worker properties file")
  String file;

  @Override
  public Integer call() throws Exception {
    WorkerMain.main(file == null ? new String[0] : new String[] {file});
    return 0;
  }
}

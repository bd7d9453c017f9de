package io.kinfer.dev;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ops devstack}: broker + registry + sample models + one worker, until Ctrl-C. */
@Command(name = "devstack", mixinStandardHelpOptions = true,
    description = "Start an in-JVM Kafka broker, Schema Registry endpoint, sample models and a worker.")
public final class DevStackCommand implements Callable<Integer> {
  @Option(names = "--kafka-port", defaultValue = "9092", description = "default: ${DEFAULT-VALUE}")
  int kafkaPort;

  @Option(names = "--registry-port", defaultValue = "8081", description = "default: ${DEFAULT-VALUE}")
  int registryPort;

  @Option(names = "--data-dir", description = "keep broker data and schemas here across restarts")
  Path dataDir;

  @Option(names = "--partitions", defaultValue = "4", description = "partitions of the request topic")
  int partitions;

  @Option(names = "--http-port", defaultValue = "8080", description = "worker's /metrics, /health, /ready (default: ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--sasl", description = "SASL/SCRAM-SHA-512 with ACLs: users admin, worker, ops, client;"
      + " their client settings are written to <data-dir>/sasl/<user>.properties")
  boolean sasl;

  @Option(names = "--no-worker", description = "start only broker, registry and models")
  boolean noWorker;

  @Override
  public Integer call() throws Exception {
    DevStack stack = DevStack.start(new DevStack.Options(dataDir, kafkaPort, registryPort, null, partitions,
        noWorker ? null : Map.of(io.kinfer.worker.config.WorkerConfig.HTTP_PORT_CONFIG, httpPort), sasl));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stack.close();
      done.countDown();
    }, "devstack-shutdown"));
    System.out.println("Kafka bootstrap:  " + stack.bootstrapServers());
    System.out.println("Schema Registry:  " + stack.registryUrl());
    System.out.println("Model repository: " + stack.modelsDir());
    if (sasl) {
      Path dir = stack.opsKeyFile().getParent().getParent().resolve("sasl");
      System.out.println("SASL/SCRAM:       client settings in " + dir + "/{ops,client}.properties"
          + "  (ops ctl --client-config " + dir.resolve("ops.properties") + " ...)");
    }
    System.out.println("Operator key:     " + stack.opsKeyFile() + "  (ops ctl --key " + stack.opsKeyFile() + " ...)");
    System.out.println(noWorker ? "No worker started." : "Worker:           " + stack.worker().engine().loaded()
        + ", metrics http://127.0.0.1:" + stack.worker().httpPort() + "/metrics (/health, /ready)");
    System.out.println("Ctrl-C to stop.");
    done.await();
    return 0;
  }
}

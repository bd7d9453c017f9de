package io.kinfer.dev.bench;

import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Entry point of the bench's child JVMs (see {@link ChildJvm}):
 * <pre>
 *   naive BOOTSTRAP REGISTRY_URL MODELS MODEL VERSION REQUESTS_TOPIC OUTPUT_TOPIC COUNT DEVICE|noop
 *   passthrough WORKER_PROPERTIES REGISTRY_URL MODEL VERSION     (runs until SIGTERM)
 * </pre>
 * The naive loop prints {@code RESULT <requests/s> <CPU ms per 1,000 requests>}; the pass-through
 * worker is measured by the parent, which reads its answers.
 */
public final class BenchChild {
  static final String RESULT = "RESULT";

  private BenchChild() {}

  public static void main(String[] args) throws Exception {
    AvroSafety.ensureConfigured();
    if (args[0].equals("naive")) {
      ModelVersion version = new ModelVersion(args[4], args[5]);
      InferenceEngine engine;
      if (args[9].equals("noop")) {
        engine = new NoOpEngine(version);
      } else {
        OnnxEngine onnx = new OnnxEngine(new EngineOptions(args[9], 0, false, 0));
        onnx.load(new ModelRepository(Path.of(args[3]), 1L << 31).load(version));
        engine = onnx;
      }
      try (engine) {
        long count = Long.parseLong(args[8]);
        // A fresh JVM: the first third warms it up, as for the isolated workers.
        NaiveLoop.Rate rate = NaiveLoop.run(args[1], new RestSchemaRegistryClient(args[2]), engine, version, args[6],
            args[7], count, count / 3);
        System.out.println(RESULT + " " + rate.requestsPerSecond() + " " + rate.cpuMsPerThousand());
      }
      System.exit(0);
    } else if (args[0].equals("passthrough")) {
      WorkerConfig config = WorkerConfig.load(Path.of(args[1]), System.getenv());
      KafkaStreams streams = PassThrough.start(config, new RestSchemaRegistryClient(args[2]),
          new ModelVersion(args[3], args[4]));
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        streams.close(java.time.Duration.ofSeconds(10));
        stopped.countDown();
      }));
      stopped.await();
    } else {
      throw new IllegalArgumentException("Unknown bench child mode " + args[0]);
    }
  }
}

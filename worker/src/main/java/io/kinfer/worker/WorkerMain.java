package io.kinfer.worker;

import io.kinfer.worker.config.WorkerConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;

/** {@code java -cp ... io.kinfer.worker.WorkerMain [worker.properties]}: runs until SIGTERM. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws InterruptedException {
    WorkerConfig config = WorkerConfig.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv());
    Worker worker = Worker.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close();
      stopped.countDown();
    }, "kinfer-shutdown"));
    while (stopped.getCount() > 0) {
      if (worker.state() == KafkaStreams.State.ERROR) {
        System.err.println("Kafka Streams is in ERROR state; exiting so the supervisor restarts the worker");
        System.exit(1);
      }
      stopped.await(java.time.Duration.ofSeconds(1).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }
}

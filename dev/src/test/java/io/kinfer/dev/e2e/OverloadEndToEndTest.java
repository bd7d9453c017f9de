package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.load.Settled;
import io.kinfer.dev.bench.WorkerProcess;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offered load at three times the worker's measured capacity for 60 s. Kafka holds the excess as
 * lag; the worker keeps answering at about its capacity with a bounded heap, and once the load
 * stops every request is answered exactly once.
 */
@Tag("integration")
class OverloadEndToEndTest {
  private static final int WARMUP = 20_000;
  private static final int CALIBRATION = 60_000;
  private static final int OVERLOAD_SECONDS = 60;
  @TempDir Path dir;

  @Test
  void shouldAnswerAtCapacityWithABoundedHeapUnderThreeTimesCapacity() throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 2, (short) 1))).all().get();
      }
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      RequestFactory factory = new RequestFactory("overload", 17);
      Map<String, Object> config = Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.APPLICATION_ID_CONFIG, "overload");
      try (PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client,
              Topics.DEFAULT_PREDICTIONS, factory, null);
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS, factory);
          WorkerProcess worker = WorkerProcess.start(dir, "overload", config, "-Xmx1g")) {
        await().atMost(Duration.ofSeconds(90)).until(worker::ready);

        // Capacity: how fast the warmed-up worker drains a backlog, measured in this run on this machine.
        generator.run(0, WARMUP, 0);
        await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= WARMUP);
        generator.run(WARMUP, CALIBRATION, 0);
        long calibrationStart = System.currentTimeMillis();
        await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= WARMUP + CALIBRATION);
        double capacity = CALIBRATION * 1000.0 / Math.max(1, tracker.lastAtMs() - calibrationStart);

        long first = WARMUP + CALIBRATION;
        long total = first + (long) (3 * capacity * OVERLOAD_SECONDS);
        Thread load = new Thread(() -> generator.run(first, total - first, 3 * capacity), "overload-load");
        long overloadStart = System.currentTimeMillis();
        long answeredAtStart = tracker.answered();
        load.start();
        double maxHeap = 0;
        while (System.currentTimeMillis() - overloadStart < OVERLOAD_SECONDS * 1000L) {
          maxHeap = Math.max(maxHeap, heapUsedBytes(worker));
          assertThat(worker.alive()).as("worker alive under overload; see " + worker.log()).isTrue();
          Thread.sleep(1000); // the sampling period of the heap, not a wait for anything
        }
        long elapsed = System.currentTimeMillis() - overloadStart;
        double okRate = (tracker.answered() - answeredAtStart) * 1000.0 / elapsed;
        double offered = generator.sent() - first;
        offered = offered * 1000.0 / elapsed;
        load.join();
        System.out.printf("overload: capacity %.0f/s, offered %.0f/s, answered %.0f/s under overload (%.0f%% of"
            + " capacity), max heap %.0f MB%n", capacity, offered, okRate, 100 * okRate / capacity, maxHeap / (1 << 20));

        assertThat(offered).as("the generator really offered an overload").isGreaterThan(2 * capacity);
        assertThat(maxHeap).as("heap under overload").isLessThan(512.0 * (1 << 20));
        assertThat(okRate).as("answers per second under 3x overload vs capacity " + capacity)
            .isGreaterThan(0.5 * capacity);
        await().atMost(Duration.ofMinutes(6)).until(() -> tracker.answered() >= total);
        Settled.untilNoneInFlight(kafka.bootstrapServers(), "overload", Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS,
            tracker, Duration.ofSeconds(60));
        assertThat(tracker.missing(total)).isZero();
        assertThat(tracker.duplicates()).isZero();
      }
    }
  }

  /** Heap in use now, from the worker's own /metrics. */
  private static double heapUsedBytes(WorkerProcess worker) throws java.io.IOException, InterruptedException {
    return worker.metrics().entrySet().stream()
        .filter(e -> e.getKey().startsWith("jvm_memory_used_bytes{") && e.getKey().contains("area=\"heap\""))
        .mapToDouble(Map.Entry::getValue).sum();
  }
}

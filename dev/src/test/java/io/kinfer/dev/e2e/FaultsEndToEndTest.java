package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.load.Settled;
import io.kinfer.dev.EmbeddedKafka;
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
 * Rebalances, a stalled worker and a broker restart while requests flow; after each, a
 * read_committed consumer must see every request id exactly once. These use the in-JVM broker
 * directly: the broker restart needs control of the broker process.
 */
@Tag("integration")
class FaultsEndToEndTest {
  private static final int TOTAL = 24_000;
  private static final double RATE = 2_000;
  @TempDir Path dir;

  private interface Scenario {
    void during(Fixture f) throws Exception;
  }

  private record Fixture(EmbeddedKafka kafka, PredictionTracker tracker, Map<String, Object> config, Path dir) {
    void awaitAnswered(long n) {
      await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= n);
    }
  }

  private void run(String name, Scenario scenario) throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0, Map.of());
    kafka.start();
    try (EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 4, (short) 1))).all().get();
      }
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      RequestFactory factory = new RequestFactory(name, 21);
      Map<String, Object> config = Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.APPLICATION_ID_CONFIG, name);
      try (PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client, Topics.DEFAULT_PREDICTIONS,
              factory, null);
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS, factory)) {
        Thread load = new Thread(() -> generator.run(0, TOTAL, RATE), name + "-load");
        Fixture fixture = new Fixture(kafka, tracker, config, dir);
        load.start();
        scenario.during(fixture);
        load.join();
        fixture.awaitAnswered(TOTAL);
        Settled.untilNoneInFlight(kafka.bootstrapServers(), name, Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS, tracker,
            Duration.ofSeconds(60));
        assertThat(tracker.missing(TOTAL)).as(name + ": lost").isZero();
        assertThat(tracker.duplicates()).as(name + ": duplicated").isZero();
      }
    } finally {
      kafka.close();
    }
  }

  @Test
  void shouldStayExactlyOnceWhenScalingOutAndBackIn() throws Exception {
    run("scale", f -> {
      try (WorkerProcess first = WorkerProcess.start(f.dir(), "scale-a", f.config())) {
        f.awaitAnswered(TOTAL / 4);
        try (WorkerProcess second = WorkerProcess.start(f.dir(), "scale-b", f.config())) {
          await().atMost(Duration.ofSeconds(90)).until(second::ready);
          f.awaitAnswered(TOTAL / 2);
          second.terminate();
        }
        f.awaitAnswered(TOTAL);
        assertThat(first.alive()).isTrue();
      }
    });
  }

  @Test
  void shouldFenceAStalledWorkerSoItCannotWriteDuplicates() throws Exception {
    run("stall", f -> {
      try (WorkerProcess stalled = WorkerProcess.start(f.dir(), "stall-a", f.config());
          WorkerProcess other = WorkerProcess.start(f.dir(), "stall-b", f.config())) {
        await().atMost(Duration.ofSeconds(90)).until(() -> stalled.ready() && other.ready());
        f.awaitAnswered(TOTAL / 4);
        stalled.pause();
        long before = f.tracker().answered();
        // The other worker takes over the stalled one's partitions after the session timeout.
        await().atMost(Duration.ofSeconds(60)).until(() -> f.tracker().answered() > before + 4_000);
        stalled.resume();
        f.awaitAnswered(TOTAL);
      }
    });
  }

  @Test
  void shouldRecoverFromABrokerRestartWithoutManualAction() throws Exception {
    run("restart", f -> {
      try (WorkerProcess worker = WorkerProcess.start(f.dir(), "restart-a", f.config())) {
        await().atMost(Duration.ofSeconds(90)).until(worker::ready);
        f.awaitAnswered(TOTAL / 4);
        f.kafka().stop();
        Thread.sleep(3_000); // the outage itself, not a wait for anything
        f.kafka().start();
        f.awaitAnswered(TOTAL);
        assertThat(worker.alive()).isTrue();
      }
    });
  }
}

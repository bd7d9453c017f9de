package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.load.Settled;
import io.kinfer.dev.bench.WorkerProcess;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.Status;
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
 * Workers in child JVMs stopped the hard way while requests flow. With exactly-once v2 and a
 * read_committed consumer, every request id must be answered exactly once: a request buffered in the
 * batch store of a killed worker is restored from the changelog by its successor, and a response
 * from an aborted transaction is never seen.
 */
@Tag("integration")
class CrashEndToEndTest {
  @TempDir Path dir;

  private Map<String, Object> config(TestKafka kafka, EmbeddedSchemaRegistry registry, Path models) {
    return Map.of(
        WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
        WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
        WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
        WorkerConfig.APPLICATION_ID_CONFIG, "crash-test");
  }

  /** What a crash scenario works with: the tracker, the load generator and the workers' settings. */
  private interface Scenario {
    void run(PredictionTracker tracker, LoadGenerator generator, Map<String, Object> config) throws Exception;
  }

  private void withStack(String prefix, Scenario scenario) throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 2, (short) 1))).all().get();
      }
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      RequestFactory factory = new RequestFactory(prefix, 11);
      try (PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client, Topics.DEFAULT_PREDICTIONS,
              factory, null);
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS, factory)) {
        scenario.run(tracker, generator, config(kafka, registry, models));
      }
    }
  }

  @Test
  void shouldLoseAndDuplicateNothingWhenTheWorkerIsKilledThreeTimes() throws Exception {
    int total = 50_000;
    withStack("kill", (tracker, generator, config) -> {
      WorkerProcess worker = WorkerProcess.start(dir, "kill-0", config);
      await().atMost(Duration.ofSeconds(90)).until(worker::ready);
      Thread load = new Thread(() -> generator.run(0, total, 2_500), "crash-load");
      load.start();
      for (int kill = 1; kill <= 3; kill++) {
        long threshold = kill * 10_000L;
        WorkerProcess victim = worker;
        await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= threshold || !victim.alive());
        assertThat(victim.alive()).as("worker died on its own; see " + victim.log()).isTrue();
        victim.kill();
        worker = WorkerProcess.start(dir, "kill-" + kill, config);
      }
      load.join();
      try (WorkerProcess last = worker) {
        await().atMost(Duration.ofMinutes(3)).until(() -> tracker.answered() >= total);
        // Late duplicates would have arrived by the time every request is committed.
        Settled.untilNoneInFlight((String) config.get(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG), "crash-test", Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS, tracker,
            Duration.ofSeconds(60));
        assertThat(tracker.missing(total)).isZero();
        assertThat(tracker.duplicates()).isZero();
        assertThat(tracker.statuses()).containsExactly(Map.entry(Status.OK, (long) total));
      }
    });
  }

  @Test
  void shouldLoseNothingWhenTheWorkerIsStoppedWithSigtermUnderLoad() throws Exception {
    int total = 12_000;
    withStack("term", (tracker, generator, config) -> {
      try (WorkerProcess first = WorkerProcess.start(dir, "term-a", config);
          WorkerProcess second = WorkerProcess.start(dir, "term-b", config)) {
        await().atMost(Duration.ofSeconds(90)).until(() -> first.ready() && second.ready());
        Thread load = new Thread(() -> generator.run(0, total, 2_000), "term-load");
        load.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> tracker.answered() >= total / 3);
        first.terminate();
        load.join();
        await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= total);
        Settled.untilNoneInFlight((String) config.get(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG), "crash-test", Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS, tracker,
            Duration.ofSeconds(60));
        assertThat(tracker.missing(total)).isZero();
        assertThat(tracker.duplicates()).isZero();
      }
    });
  }
}

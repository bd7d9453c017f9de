package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.SharedMetricRegistries;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A start that fails after Kafka was contacted and models loaded leaves nothing running behind. */
@Tag("integration")
class WorkerStartTest {
  @TempDir Path dir;

  private static List<String> kinferThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
        .filter(n -> n.equals("status-publisher") || n.contains("kafka-producer-network-thread")
            || n.contains("start-failure"))
        .sorted().toList();
  }

  @Test
  void shouldCloseWhatAFailedStartOpenedSoTheSameWorkerCanStartAgain() throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 1, (short) 1))).all().get();
      }
      Map<String, Object> settings = new HashMap<>(Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.APPLICATION_ID_CONFIG, "start-failure",
          WorkerConfig.WORKER_ID_CONFIG, "start-failure",
          WorkerConfig.HTTP_PORT_CONFIG, 0));
      List<String> before = kinferThreads();
      // Valid key, bad value: only the Kafka Streams client refuses it, after topics, models and
      // the status producer were set up.
      settings.put("kafka.num.standby.replicas", "several");
      assertThatThrownBy(() -> Worker.start(new WorkerConfig(settings)))
          .isInstanceOf(ConfigException.class).hasMessageContaining("num.standby.replicas");

      // Only new threads count: one an earlier test class left may end meanwhile.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(kinferThreads()).isSubsetOf(before));
      assertThat(SharedMetricRegistries.names()).doesNotContain("kinfer-start-failure");

      settings.remove("kafka.num.standby.replicas");
      try (Worker worker = Worker.start(new WorkerConfig(settings))) {
        await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
      }
    }
  }
}

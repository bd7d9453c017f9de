package io.kinfer.client.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kinfer.dev.EmbeddedKafka;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.Topics;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plan's control record and its history record are one transaction: a publish that fails (or
 * whose client dies) between the two leaves neither visible to read_committed readers, so rollback
 * never works from a history that lacks the plan in force. On the in-JVM KRaft broker.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlClientTransactionTest {
  @TempDir static Path dir;
  private EmbeddedKafka kafka;
  private Admin admin;
  private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
  private PrivateKey key;

  @BeforeAll
  void start() throws Exception {
    kafka = EmbeddedKafka.startEphemeral();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    key = OperatorKey.readPrivate(OperatorKey.ensure(dir, "ops"));
  }

  @AfterAll
  void stop() {
    admin.close();
    kafka.close();
  }

  private Topics topics(String name) throws Exception {
    Topics d = Topics.defaults();
    Topics topics = new Topics(d.requests(), d.predictions(), d.deadLetters(), d.shadow(), d.comparisons(),
        name + ".control", d.status());
    admin.createTopics(List.of(new NewTopic(topics.control(), 1, (short) 1),
        new NewTopic(topics.history().name(), 1, (short) 1))).all().get();
    return topics;
  }

  private ControlClient client(Topics topics) {
    return new ControlClient(kafka.bootstrapServers(), registry, topics, "ops", key, "tester");
  }

  /** What a read_committed reader (a worker, rollback) sees on {@code topic}. */
  private List<ControlCommand> committed(String topic) {
    AvroWireDeserializer<ControlCommand> decoder = new AvroWireDeserializer<>(registry, ControlCommand.getClassSchema());
    List<ControlCommand> out = new ArrayList<>();
    TopicReader.read(kafka.bootstrapServers(), topic, new StringDeserializer(), new ByteArrayDeserializer(), 0,
        r -> out.add(decoder.deserialize(topic, r.value())));
    return out;
  }

  /** The partition's end including records of open or aborted transactions. */
  private long written(String topic) throws Exception {
    TopicPartition tp = new TopicPartition(topic, 0);
    return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
  }

  @Test
  void shouldWriteThePlanToTheControlTopicAndItsHistory() throws Exception {
    Topics topics = topics("normal");
    try (ControlClient ops = client(topics)) {
      ControlCommand first = ops.deploy("mlp", "1");
      ControlCommand second = ops.deploy("mlp", "2");

      assertThat(committed(topics.control())).containsExactly(first, second);
      assertThat(committed(topics.history().name())).containsExactly(first, second);
      assertThat(ops.rollback("mlp").getRoutes()).isEqualTo(first.getRoutes());
    }
  }

  @Test
  void shouldReturnFromAPublishOnlyOnceEveryReadCommittedReaderSeesIt() throws Exception {
    Topics topics = topics("visible");
    try (ControlClient ops = client(topics)) {
      for (int i = 0; i < 3; i++) {
        // The commit markers are written after commitTransaction returns: a reader right after it
        // could miss the plan, and the next command (here: another client's) start from the one
        // before. A guard only: on this broker the markers usually win the race anyway.
        ControlCommand issued = ops.deploy("mlp", Integer.toString(1 + i % 2));
        List<ControlCommand> seen = committed(topics.control());
        assertThat(seen).as("publish " + i).isNotEmpty();
        assertThat(seen.get(seen.size() - 1)).as("publish " + i).isEqualTo(issued);
        try (ControlClient other = client(topics)) {
          assertThat(other.currentPlan("mlp")).contains(issued);
        }
      }
    }
  }

  @Test
  void shouldLeaveNeitherRecordVisibleWhenThePublishFailsBetweenThem() throws Exception {
    Topics topics = topics("failing");
    ControlCommand first;
    try (ControlClient ops = client(topics)) {
      first = ops.deploy("mlp", "1");
      long before = written(topics.control());
      ops.betweenWrites = () -> {
        // the control record has reached the broker; then the publish fails
        await().atMost(Duration.ofSeconds(10)).until(() -> written(topics.control()) > before);
        throw new IllegalStateException("injected failure between the control and the history record");
      };

      assertThatThrownBy(() -> ops.deploy("mlp", "2")).hasStackTraceContaining("injected failure");

      assertThat(committed(topics.control())).containsExactly(first);
      assertThat(committed(topics.history().name())).containsExactly(first);
    }
    try (ControlClient fresh = client(topics)) {
      assertThat(fresh.currentPlan("mlp")).contains(first);
      assertThatThrownBy(() -> fresh.rollback("mlp")).hasMessageContaining("No earlier plan");
    }
  }

  @Test
  void shouldAbortTheOpenTransactionOfAClientThatDiedMidPublishWhenItsIdStartsAgain() throws Exception {
    Topics topics = topics("crashed");
    CountDownLatch sent = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    ControlCommand survivor;
    try (ControlClient dying = client(topics)) {
      long before = written(topics.control());
      dying.betweenWrites = () -> {
        await().atMost(Duration.ofSeconds(10)).until(() -> written(topics.control()) > before);
        sent.countDown();
        try {
          never.await(); // hangs like a dead process: no commit, no abort
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      };
      CompletableFuture<ControlCommand> hung = CompletableFuture.supplyAsync(() -> dying.deploy("mlp", "1"));
      assertThat(sent.await(30, TimeUnit.SECONDS)).isTrue();

      long startedMs = System.currentTimeMillis();
      try (ControlClient restarted = client(topics)) { // same issuer and host: same transactional id
        survivor = restarted.deploy("mlp", "2");
      }
      assertThat(System.currentTimeMillis() - startedMs).as("not held back until the transaction timed out")
          .isLessThan(ControlClient.TRANSACTION_TIMEOUT_MS);
      assertThat(committed(topics.control())).containsExactly(survivor);
      assertThat(committed(topics.history().name())).containsExactly(survivor);
      assertThat(survivor.getRoutes()).extracting(Route::getVersion).containsExactly("2");

      never.countDown();
      assertThatThrownBy(() -> hung.get(30, TimeUnit.SECONDS)).hasStackTraceContaining("Cannot publish the plan");
    }
    assertThat(committed(topics.history().name())).containsExactly(survivor);
  }
}

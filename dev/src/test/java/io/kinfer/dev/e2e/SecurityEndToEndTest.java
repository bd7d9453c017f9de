package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.OperatorKey;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.security.WorkerAcls;
import io.kinfer.dev.DevStack;
import io.kinfer.dev.EmbeddedKafka;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL/SCRAM and ACLs on the in-JVM broker: the worker principal may read requests and control and
 * write its outputs; only the ops principal may write the control topic. A principal that can read
 * the plans but not write them cannot change what serves, even holding a trusted signing key.
 */
@Tag("integration")
class SecurityEndToEndTest {
  private static final String APP = "secure-worker";
  @TempDir Path dir;

  @Test
  void shouldLetOnlyTheOpsPrincipalChangeThePlanWhileTheWorkerServes() throws Exception {
    Map<String, String> users = Map.of(EmbeddedKafka.ADMIN_USER, "admin-secret", "worker", "worker-secret",
        "ops", "ops-secret", "intruder", "intruder-secret");
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    Path keys = dir.resolve("keys");
    Path key = OperatorKey.ensure(keys, "ops");
    Topics topics = Topics.defaults();
    String history = topics.history().name();
    try (EmbeddedKafka kafka = new EmbeddedKafka(null, 0, Map.of(), users);
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      kafka.start();
      try (Admin admin = Admin.create(kafka.clientConfig(EmbeddedKafka.ADMIN_USER))) {
        List<NewTopic> all = new ArrayList<>();
        for (String t : List.of(topics.requests(), topics.predictions(), topics.deadLetters(), topics.shadow(),
            topics.comparisons(), topics.control(), topics.status(), history)) {
          all.add(new NewTopic(t, 1, (short) 1));
        }
        admin.createTopics(all).all().get();
        List<AclBinding> acls = new ArrayList<>(WorkerAcls.worker("worker", topics, APP));
        acls.addAll(WorkerAcls.operator("ops", topics));
        acls.addAll(WorkerAcls.observer("intruder", topics));
        admin.createAcls(acls).all().get();
      }
      Map<String, Object> workerConfig = new HashMap<>(Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.APPLICATION_ID_CONFIG, APP,
          WorkerConfig.WORKER_ID_CONFIG, APP,
          WorkerConfig.HTTP_PORT_CONFIG, 0,
          WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG, keys.toString()));
      workerConfig.putAll(WorkerConfig.kafkaSettings(kafka.clientConfig("worker")));
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      RequestFactory factory = new RequestFactory("secure", 2);
      Map<String, InferenceResponse> answers = new ConcurrentHashMap<>();
      try (Worker worker = Worker.start(new WorkerConfig(workerConfig));
          ControlClient ops = new ControlClient(kafka.clientConfig("ops"), client, topics, "ops",
              OperatorKey.readPrivate(key), "ops");
          ControlClient intruder = new ControlClient(kafka.clientConfig("intruder"), client, topics, "ops",
              OperatorKey.readPrivate(key), "intruder");
          PredictionTracker tracker = new PredictionTracker(kafka.clientConfig(EmbeddedKafka.ADMIN_USER), client,
              topics.predictions(), factory, r -> answers.put(r.getId(), r));
          LoadGenerator generator = new LoadGenerator(kafka.clientConfig(EmbeddedKafka.ADMIN_USER), client,
              topics.requests(), factory)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
        ControlCommand deployed = ops.deploy("mlp", "1");
        await().atMost(Duration.ofSeconds(30)).until(() -> worker.routes().plan("mlp")
            .map(p -> p.generation() == deployed.getGeneration()).orElse(false));

        assertThatThrownBy(() -> intruder.deploy("mlp", "2")).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("Cannot publish the plan").hasStackTraceContaining("AuthorizationException");
        // The client above is stopped by the transactional-id ACL first, an idempotent producer by
        // the cluster's IdempotentWrite; a plain one meets the topic's own Write ACL.
        Map<String, Object> plainConfig = new HashMap<>(kafka.clientConfig("intruder"));
        plainConfig.put("enable.idempotence", false);
        try (KafkaProducer<byte[], byte[]> plain = new KafkaProducer<>(plainConfig,
            new ByteArraySerializer(), new ByteArraySerializer())) {
          assertThatThrownBy(() -> plain.send(new ProducerRecord<>(topics.control(), "mlp".getBytes(),
              new byte[] {0})).get()).hasCauseInstanceOf(TopicAuthorizationException.class);
        }

        generator.run(0, 200, 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> tracker.answered() >= 200);
        assertThat(answers.values()).allSatisfy(r -> {
          assertThat(r.getVersion()).isEqualTo("1");
          assertThat(r.getPlanGeneration()).isEqualTo(deployed.getGeneration());
        });
        assertThat(worker.routes().plan("mlp").orElseThrow().generation()).isEqualTo(deployed.getGeneration());
      }
    }
  }

  @Test
  void shouldRunTheDevStackWithSaslAndAcls() throws Exception {
    try (DevStack stack = DevStack.start(new DevStack.Options(dir.resolve("stack"), 0, 0, null, 2,
        Map.of(WorkerConfig.HTTP_PORT_CONFIG, 0), true))) {
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(stack.registryUrl());
      await().atMost(Duration.ofSeconds(60)).until(() -> stack.worker().state() == KafkaStreams.State.RUNNING);
      try (ControlClient ops = new ControlClient(stack.clientConfig("ops"), client, Topics.defaults(),
          DevStack.OPS_KEY_ID, OperatorKey.readPrivate(stack.opsKeyFile()), "ops")) {
        ControlCommand deployed = ops.deploy("mlp", "1");
        await().atMost(Duration.ofSeconds(30)).until(() -> stack.worker().routes().plan("mlp")
            .map(p -> p.generation() == deployed.getGeneration()).orElse(false));
      }
      assertThatThrownBy(() -> {
        try (ControlClient app = new ControlClient(stack.clientConfig("client"), client, Topics.defaults(),
            DevStack.OPS_KEY_ID, OperatorKey.readPrivate(stack.opsKeyFile()), "app")) {
          app.deploy("mlp", "2");
        }
      }).hasStackTraceContaining("AuthorizationException");
      RequestFactory factory = new RequestFactory("sasl-devstack", 1);
      try (PredictionTracker tracker = new PredictionTracker(stack.clientConfig("client"), client,
              Topics.DEFAULT_PREDICTIONS, factory, null);
          LoadGenerator generator = new LoadGenerator(stack.clientConfig("client"), client, Topics.DEFAULT_REQUESTS,
              factory)) {
        generator.run(0, 100, 0);
        await().atMost(Duration.ofSeconds(60)).until(() -> tracker.answered() >= 100);
      }
      assertThat(stack.clientConfig("client")).containsEntry("security.protocol", "SASL_PLAINTEXT");
    }
  }
}

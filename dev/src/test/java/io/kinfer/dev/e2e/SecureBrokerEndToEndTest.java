package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.OperatorKey;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.security.ClientSettings;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.ops.security.SecurityCommand;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The pieces of docker-compose.secure.yml run for real, without Docker: {@code certs.sh} makes the
 * CA and broker key pair with keytool, {@code kafka-start.sh} formats and starts a real Kafka broker
 * (in a child JVM, through stand-ins for Kafka's two launcher scripts) with SASL_SSL + ACLs, and
 * {@code ops security init} adds users, topics, ACLs and client files that the worker, the operator
 * and the load generator then use exactly as the compose services do.
 */
@Tag("integration")
class SecureBrokerEndToEndTest {
  private static final Path SECURE = Path.of("..", "ops", "deploy", "secure");
  @TempDir Path dir;

  @Test
  void shouldServeOverSaslSslWithTheComposeScriptsAndKeepTheControlTopicToOps() throws Exception {
    Path certs = dir.resolve("certs");
    run(List.of("sh", SECURE.resolve("certs.sh").toString(), certs.toString(), "localhost", "127.0.0.1"), Map.of());
    assertThat(certs.resolve("broker.p12")).exists();

    int internal = freePort();
    int external = freePort();
    Path admin = dir.resolve("admin.properties");
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_ADMIN_PASSWORD", "admin-secret",
        "KAFKA_HOME", fakeKafkaHome().toString(), "KAFKA_CERTS_DIR", certs.toString(),
        "KAFKA_DATA_DIR", dir.resolve("data").toString(), "KAFKA_INTERNAL_HOST", "127.0.0.1"));
    env.putAll(Map.of("KAFKA_INTERNAL_PORT", Integer.toString(internal),
        "KAFKA_EXTERNAL_PORT", Integer.toString(external), "KAFKA_CONTROLLER_PORT", Integer.toString(freePort()),
        "KAFKA_CONFIG_FILE", dir.resolve("server.properties").toString(), "KAFKA_ADMIN_CLIENT_FILE", admin.toString()));
    ProcessBuilder broker = new ProcessBuilder("sh", SECURE.resolve("kafka-start.sh").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile());
    broker.environment().putAll(env);
    Process kafka = broker.start();
    try {
      String bootstrap = "127.0.0.1:" + internal;
      await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> {
        assertThat(kafka.isAlive()).as("broker process (see %s)", dir.resolve("broker.log")).isTrue();
        try (Admin a = Admin.create(ClientSettings.load(admin, bootstrap))) {
          return !a.describeCluster().nodes().get().isEmpty();
        }
      });
      Map<String, Object> adminClient = ClientSettings.load(admin, bootstrap);

      Path secrets = dir.resolve("secrets");
      int rc = new CommandLine(new SecurityCommand()).execute("init", "--bootstrap", bootstrap,
          "--admin-password", "admin-secret", "--ca-file", certs.resolve("ca.crt").toString(),
          "--secrets", secrets.toString(), "--schema-registry-password", "sr-secret", "--partitions", "2");
      assertThat(rc).isZero();
      assertThat(secrets.resolve("worker.properties")).exists();
      try (Admin a = Admin.create(adminClient)) {
        assertThat(a.listTopics().names().get()).contains(Topics.DEFAULT_REQUESTS, Topics.DEFAULT_CONTROL, "_schemas");
        assertThat(a.describeUserScramCredentials().users().get())
            .contains("worker", "ops", "loadgen", "schema-registry");
      }

      // Wrong password: refused at authentication, before any ACL is consulted.
      Map<String, Object> wrong = ClientSettings.load(secrets.resolve("loadgen.properties"), bootstrap);
      wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
          + " username=\"loadgen\" password=\"guess\";");
      try (Admin a = Admin.create(wrong)) {
        assertThatThrownBy(() -> a.listTopics().names().get()).hasStackTraceContaining("SaslAuthenticationException");
      }
      // TLS without the CA: the broker's certificate is not trusted.
      Map<String, Object> untrusted = ClientSettings.load(secrets.resolve("loadgen.properties"), bootstrap);
      untrusted.keySet().removeIf(k -> k.startsWith("ssl.truststore"));
      try (Admin a = Admin.create(untrusted)) {
        assertThatThrownBy(() -> a.listTopics().names().get()).hasStackTraceContaining("SSLHandshakeException");
      }

      Path models = dir.resolve("models");
      SampleModels.writeAll(models);
      Path key = OperatorKey.ensure(dir.resolve("keys"), "ops");
      try (EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
        // As compose runs it: the file from security init plus KINFER_* environment variables.
        WorkerConfig config = WorkerConfig.load(secrets.resolve("worker.properties"), Map.of(
            "KINFER_SCHEMA_REGISTRY_URL", registry.url(), "KINFER_MODEL_REPOSITORY", models.toString(),
            "KINFER_STATE_DIR", dir.resolve("state").toString(), "KINFER_HTTP_PORT", "0",
            "KINFER_CONTROL_TRUSTED_KEYS_DIR", dir.resolve("keys").toString()));
        RequestFactory factory = new RequestFactory("secure-compose", 2);
        Map<String, Object> loadgen = ClientSettings.load(secrets.resolve("loadgen.properties"), bootstrap);
        try (Worker worker = Worker.start(config);
            ControlClient ops = new ControlClient(ClientSettings.load(secrets.resolve("ops.properties"), bootstrap),
                client, Topics.defaults(), "ops", OperatorKey.readPrivate(key), "ops");
            PredictionTracker tracker = new PredictionTracker(loadgen, client, Topics.DEFAULT_PREDICTIONS, factory, null);
            LoadGenerator generator = new LoadGenerator(loadgen, client, Topics.DEFAULT_REQUESTS, factory)) {
          await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
          ControlCommand deployed = ops.deploy("mlp", "1");
          await().atMost(Duration.ofSeconds(30)).until(() -> worker.routes().plan("mlp")
              .map(p -> p.generation() == deployed.getGeneration()).orElse(false));

          generator.run(0, 300, 0);
          await().atMost(Duration.ofSeconds(60)).until(() -> tracker.answered() >= 300);
          assertThat(tracker.duplicates()).isZero();

          // The load generator holds a trusted signing key here, yet cannot write the control topic.
          assertThatThrownBy(() -> {
            try (ControlClient app = new ControlClient(loadgen, client, Topics.defaults(), "ops",
                OperatorKey.readPrivate(key), "loadgen")) {
              app.deploy("mlp", "2");
            }
          }).hasStackTraceContaining("AuthorizationException");
          assertThat(worker.routes().plan("mlp").orElseThrow().generation()).isEqualTo(deployed.getGeneration());
        }
      }
    } finally {
      kafka.destroy();
      kafka.waitFor();
    }
  }

  /** Stand-ins for Kafka's launcher scripts: the same main classes, on this test's class path. */
  private Path fakeKafkaHome() throws IOException {
    Path bin = Files.createDirectories(dir.resolve("kafka-home").resolve("bin"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("java.class.path");
    Files.writeString(bin.resolve("kafka-storage.sh"),
        "#!/bin/sh\nexec '" + java + "' -Xmx256m -cp '" + cp + "' kafka.tools.StorageTool \"$@\"\n");
    Files.writeString(bin.resolve("kafka-server-start.sh"),
        "#!/bin/sh\nexec '" + java + "' -Xmx768m -cp '" + cp + "' kafka.Kafka \"$@\"\n");
    bin.resolve("kafka-storage.sh").toFile().setExecutable(true);
    bin.resolve("kafka-server-start.sh").toFile().setExecutable(true);
    return bin.getParent();
  }

  private void run(List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("command.log").toFile());
    // keytool from the JDK running the tests, whatever PATH says.
    builder.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":"
        + builder.environment().getOrDefault("PATH", "/usr/bin:/bin"));
    builder.environment().putAll(env);
    int rc = builder.start().waitFor();
    assertThat(rc).as("%s: %s", command, Files.readString(dir.resolve("command.log"))).isZero();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}

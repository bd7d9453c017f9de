package io.kinfer.dev;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka broker in KRaft combined mode (broker + controller), running in this JVM,
 * with transactions enabled. The only class that touches Kafka's internal server APIs
 * ({@code kafka.server}, {@code Formatter}); they change between releases, so kafka_2.13 is pinned
 * to the clients' version in the parent pom.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final Path logDir;
  private final boolean deleteOnClose;
  private final int port;
  private final int controllerPort;
  private final Map<String, String> extraConfig;
  private final Map<String, String> scramUsers;
  private KafkaRaftServer server;

  /** The broker's own SCRAM user (inter-broker and super user) when SASL is on. */
  public static final String ADMIN_USER = "admin";
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

  /**
   * @param dataDir where the log lives; null = a temp dir deleted on close. A dir that is already
   *     formatted is reused as is (topics and data survive a restart).
   * @param port client port; 0 = any free port
   */
  public EmbeddedKafka(Path dataDir, int port, Map<String, String> extraConfig) throws IOException {
    this(dataDir, port, extraConfig, Map.of());
  }

  /**
   * @param scramUsers user → password; non-empty turns on SASL/SCRAM-SHA-512 for clients and the
   *     standard authorizer (deny unless an ACL allows; {@link #ADMIN_USER} is a super user and must
   *     be among the users)
   */
  public EmbeddedKafka(Path dataDir, int port, Map<String, String> extraConfig, Map<String, String> scramUsers)
      throws IOException {
    if (!scramUsers.isEmpty() && !scramUsers.containsKey(ADMIN_USER)) {
      throw new IllegalArgumentException("SASL needs the broker's own user '" + ADMIN_USER + "' among the users");
    }
    this.scramUsers = Map.copyOf(scramUsers);
    this.deleteOnClose = dataDir == null;
    this.logDir = dataDir == null ? Files.createTempDirectory("kinfer-kafka") : dataDir;
    this.port = port == 0 ? freePort(-1) : port;
    // Not the client port: the OS may hand a just-closed ephemeral port out again.
    this.controllerPort = freePort(this.port);
    this.extraConfig = Map.copyOf(extraConfig);
  }

  public static EmbeddedKafka startEphemeral() throws IOException {
    EmbeddedKafka kafka = new EmbeddedKafka(null, 0, Map.of());
    kafka.start();
    return kafka;
  }

  public synchronized void start() throws IOException {
    if (server != null) {
      return;
    }
    Files.createDirectories(logDir);
    Map<String, Object> props = new HashMap<>();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    props.put("controller.listener.names", "CONTROLLER");
    String client = scramUsers.isEmpty() ? "PLAINTEXT" : "SASL_PLAINTEXT";
    props.put("listeners", client + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", client + "://127.0.0.1:" + port);
    props.put("listener.security.protocol.map", client + ":" + client + ",CONTROLLER:PLAINTEXT");
    props.put("inter.broker.listener.name", client);
    if (!scramUsers.isEmpty()) {
      props.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
      props.put("sasl.mechanism.inter.broker.protocol", SCRAM_MECHANISM);
      props.put("listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config", jaas(ADMIN_USER));
      props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
      // The controller listener is loopback-only PLAINTEXT inside this JVM, hence ANONYMOUS.
      props.put("super.users", "User:" + ADMIN_USER + ";User:ANONYMOUS");
      props.put("allow.everyone.if.no.acl.found", "false");
    }
    props.put("log.dirs", logDir.toString());
    // Single node: every internal topic has one replica, and no waiting for more members.
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("num.partitions", "1");
    props.put("auto.create.topics.enable", "false");
    props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
    props.putAll(extraConfig);
    KafkaConfig config = new KafkaConfig(props, false);
    if (!Files.exists(logDir.resolve("meta.properties"))) {
      format(config);
    }
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    awaitReady();
  }

  private void format(KafkaConfig config) {
    try {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setControllerListenerName("CONTROLLER")
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(List.of(logDir.toString()))
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setScramArguments(scramUsers.entrySet().stream()
              .map(u -> SCRAM_MECHANISM + "=[name=" + u.getKey() + ",password=" + u.getValue() + "]").toList())
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("Cannot format KRaft storage in " + logDir, e);
    }
  }

  /** Client settings for {@code user} (bootstrap included); plain bootstrap when SASL is off. */
  public Map<String, Object> clientConfig(String user) {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrapServers());
    if (!scramUsers.isEmpty()) {
      config.put("security.protocol", "SASL_PLAINTEXT");
      config.put("sasl.mechanism", SCRAM_MECHANISM);
      config.put("sasl.jaas.config", jaas(user));
    }
    return config;
  }

  private String jaas(String user) {
    return io.kinfer.client.security.SaslUsers.scramJaas(user, scramUsers.get(user));
  }

  private void awaitReady() {
    Properties p = new Properties();
    p.putAll(clientConfig(ADMIN_USER));
    try (Admin admin = Admin.create(p)) {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get().isEmpty()) {
            return;
          }
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("Embedded Kafka did not become ready on " + bootstrapServers(), e);
          }
        }
      }
    }
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Stops the broker and keeps its data (for restart tests and persistent dev stacks). */
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  @Override
  public void close() {
    stop();
    if (deleteOnClose) {
      deleteRecursively(logDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }

  private static int freePort(int other) throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0)) {
        socket.setReuseAddress(true);
        if (socket.getLocalPort() != other) {
          return socket.getLocalPort();
        }
      }
    }
  }
}

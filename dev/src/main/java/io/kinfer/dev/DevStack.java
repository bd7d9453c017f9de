package io.kinfer.dev;

import io.kinfer.client.control.OperatorKey;
import io.kinfer.client.security.ClusterSetup;
import io.kinfer.client.security.SaslUsers;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.dev.registry.KafkaSchemaJournal;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * Everything needed to run the worker on one machine without Docker: an in-JVM KRaft broker, the
 * Schema Registry endpoint, generated sample models, the topics, and (optionally) a worker.
 */
public final class DevStack implements AutoCloseable {

  /**
   * @param dataDir keeps broker data and schemas across restarts; null = temporary
   * @param kafkaPort 0 = any free port
   * @param registryPort 0 = any free port
   * @param modelsDir where sample models are generated; null = inside the data dir or a temp dir
   * @param workerConfig overrides for the worker (e.g. max.batch.size); null = start no worker
   */
  public record Options(Path dataDir, int kafkaPort, int registryPort, Path modelsDir, int partitions,
      Map<String, Object> workerConfig, boolean sasl, Map<String, String> brokerConfig) {
    public Options(Path dataDir, int kafkaPort, int registryPort, Path modelsDir, int partitions,
        Map<String, Object> workerConfig, boolean sasl) {
      this(dataDir, kafkaPort, registryPort, modelsDir, partitions, workerConfig, sasl, Map.of());
    }

    public Options(Path dataDir, int kafkaPort, int registryPort, Path modelsDir, int partitions,
        Map<String, Object> workerConfig) {
      this(dataDir, kafkaPort, registryPort, modelsDir, partitions, workerConfig, false);
    }

    public static Options ephemeral(Map<String, Object> workerConfig) {
      return new Options(null, 0, 0, null, 2, workerConfig);
    }
  }

  /** SCRAM users of a secured dev stack: the broker's own, the worker's, the operator's, a client's. */
  public static final List<String> SASL_USERS = List.of(EmbeddedKafka.ADMIN_USER, "worker", "ops", "client");

  private final EmbeddedKafka kafka;
  private final EmbeddedSchemaRegistry registry;
  private final KafkaSchemaJournal journal;
  private final Path modelsDir;
  private final Path stateDir;
  private final Path keysDir;
  private final boolean sasl;
  private Worker worker;

  /** Key id of the operator key pair the dev stack creates and its worker trusts. */
  public static final String OPS_KEY_ID = "ops";

  private DevStack(EmbeddedKafka kafka, EmbeddedSchemaRegistry registry, KafkaSchemaJournal journal,
      Path modelsDir, Path stateDir, Path keysDir, boolean sasl) {
    this.keysDir = keysDir;
    this.sasl = sasl;
    this.kafka = kafka;
    this.registry = registry;
    this.journal = journal;
    this.modelsDir = modelsDir;
    this.stateDir = stateDir;
  }

  public static DevStack start(Options options) throws Exception {
    Path base = options.dataDir() != null ? options.dataDir() : Files.createTempDirectory("kinfer-devstack");
    Map<String, String> users = options.sasl() ? SaslUsers.ensure(base.resolve("sasl"), SASL_USERS) : Map.of();
    EmbeddedKafka kafka = new EmbeddedKafka(options.dataDir() == null ? null : options.dataDir().resolve("kafka"),
        options.kafkaPort(), options.brokerConfig(), users);
    kafka.start();
    if (options.sasl()) {
      for (String user : SASL_USERS) {
        SaslUsers.writeProperties(base.resolve("sasl"), user, kafka.clientConfig(user),
            "Kafka client settings of SCRAM user " + user + " on the kinfer dev stack");
      }
    }
    InMemorySchemaRegistry state = new InMemorySchemaRegistry();
    KafkaSchemaJournal journal = KafkaSchemaJournal.attach(kafka.clientConfig(EmbeddedKafka.ADMIN_USER), state);
    EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(state, "127.0.0.1", options.registryPort());
    Path models = options.modelsDir() != null ? options.modelsDir() : base.resolve("models");
    SampleModels.writeAll(models);
    OperatorKey.ensure(base.resolve("keys"), OPS_KEY_ID);
    DevStack stack = new DevStack(kafka, registry, journal, models, base.resolve("streams-state"), base.resolve("keys"),
        options.sasl());
    stack.createTopics(Topics.defaults(), options.partitions());
    if (options.sasl()) {
      stack.createAcls(Topics.defaults());
    }
    // TopicNameStrategy subjects registered up front, so clients in any language find them.
    state.register(AvroWireSerializer.subject(Topics.DEFAULT_REQUESTS, false), InferenceRequest.getClassSchema());
    state.register(AvroWireSerializer.subject(Topics.DEFAULT_PREDICTIONS, false), InferenceResponse.getClassSchema());
    if (options.workerConfig() != null) {
      stack.startWorker(options.workerConfig());
    }
    return stack;
  }

  public void createTopics(Topics topics, int partitions) throws Exception {
    try (Admin admin = Admin.create(kafka.clientConfig(EmbeddedKafka.ADMIN_USER))) {
      ClusterSetup.createTopics(admin, topics, partitions, false);
    }
  }

  private void createAcls(Topics topics) throws Exception {
    String app = (String) WorkerConfig.CONFIG_DEF.defaultValues().get(WorkerConfig.APPLICATION_ID_CONFIG);
    try (Admin admin = Admin.create(kafka.clientConfig(EmbeddedKafka.ADMIN_USER))) {
      admin.createAcls(ClusterSetup.acls(topics, app, new ClusterSetup.Principals("worker", "ops", "client", null)))
          .all().get();
    }
  }

  /** Kafka client settings of {@code user} on this stack (bootstrap, and SASL when it is on). */
  public Map<String, Object> clientConfig(String user) {
    return kafka.clientConfig(user);
  }

  /** The worker settings that point at this stack; overrides win. */
  public Map<String, Object> workerConfig(Map<String, Object> overrides) {
    Map<String, Object> config = new HashMap<>();
    config.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url());
    config.put(WorkerConfig.MODEL_REPOSITORY_CONFIG, modelsDir.toString());
    config.put(WorkerConfig.STATE_DIR_CONFIG, stateDir.toString());
    config.put(WorkerConfig.WORKER_ID_CONFIG, "devstack-worker");
    config.put(WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG, keysDir.toString());
    config.put(WorkerConfig.HTTP_PORT_CONFIG, 0);
    if (sasl) {
      config.putAll(WorkerConfig.kafkaSettings(kafka.clientConfig("worker")));
    }
    config.putAll(overrides);
    return config;
  }

  public synchronized Worker startWorker(Map<String, Object> overrides) {
    if (worker != null) {
      throw new IllegalStateException("A worker is already running in this dev stack");
    }
    worker = Worker.start(new WorkerConfig(workerConfig(overrides)));
    return worker;
  }

  public synchronized void stopWorker() {
    if (worker != null) {
      worker.close();
      worker = null;
    }
  }

  public Worker worker() {
    return worker;
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  public String registryUrl() {
    return registry.url();
  }

  /** The operator's private key file (signs control commands this stack's workers trust). */
  public Path opsKeyFile() {
    return keysDir.resolve(OPS_KEY_ID + OperatorKey.PRIVATE_SUFFIX);
  }

  public Path modelsDir() {
    return modelsDir;
  }

  public EmbeddedKafka kafka() {
    return kafka;
  }

  @Override
  public void close() {
    stopWorker();
    registry.close();
    journal.close();
    kafka.close();
  }
}

package io.kinfer.worker.config;

import io.kinfer.topology.Topics;
import io.kinfer.topology.TopologyConfig;
import io.kinfer.worker.engine.EngineOptions;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigException;

/**
 * Every worker setting: a key constant beside its doc, registered once in {@link #CONFIG_DEF} with
 * its default. Precedence: default < properties file < environment ({@code KINFER_MAX_BATCH_SIZE}
 * for {@code max.batch.size}). Keys prefixed {@code kafka.} are passed to the Kafka Streams client
 * with the prefix removed ({@code kafka.security.protocol=SASL_SSL}).
 */
public final class WorkerConfig extends AbstractConfig {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkerConfig.class);
  public static final String ENV_PREFIX = "KINFER_";
  public static final String KAFKA_PREFIX = "kafka.";

  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  static final String BOOTSTRAP_SERVERS_DOC = "Kafka brokers to connect to (host:port,...).";
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  static final String SCHEMA_REGISTRY_URL_DOC = "Base URL of a Confluent-compatible Schema Registry.";
  public static final String APPLICATION_ID_CONFIG = "application.id";
  static final String APPLICATION_ID_DOC = "Kafka Streams application id; workers with the same id share the request partitions.";
  public static final String WORKER_ID_CONFIG = "worker.id";
  static final String WORKER_ID_DOC = "Name of this worker in responses and status; default host-pid.";
  public static final String MODEL_REPOSITORY_CONFIG = "model.repository";
  static final String MODEL_REPOSITORY_DOC = "Directory of <name>/<version>/model.onnx + model.json.";
  public static final String MODEL_MAX_BYTES_CONFIG = "model.max.bytes";
  static final String MODEL_MAX_BYTES_DOC = "Largest model.onnx accepted; checked before reading the file.";
  public static final String MODELS_PRIMARY_CONFIG = "models.primary";
  static final String MODELS_PRIMARY_DOC = "Primary version per model, as model=version pairs; models not named serve their highest version.";
  public static final String REQUESTS_TOPIC_CONFIG = "topic.requests";
  static final String REQUESTS_TOPIC_DOC = "Topic of InferenceRequest records.";
  public static final String PREDICTIONS_TOPIC_CONFIG = "topic.predictions";
  static final String PREDICTIONS_TOPIC_DOC = "Topic the InferenceResponse records are written to.";
  public static final String DLQ_TOPIC_CONFIG = "topic.dlq";
  static final String DLQ_TOPIC_DOC = "Dead-letter topic for records that cannot be decoded (original bytes kept).";
  public static final String SHADOW_TOPIC_CONFIG = "topic.shadow";
  static final String SHADOW_TOPIC_DOC = "Topic of shadow versions' responses (never read by normal consumers).";
  public static final String COMPARISONS_TOPIC_CONFIG = "topic.comparisons";
  static final String COMPARISONS_TOPIC_DOC = "Topic of ShadowComparison records (primary vs shadow on the same request).";
  public static final String CONTROL_TOPIC_CONFIG = "topic.control";
  static final String CONTROL_TOPIC_DOC = "Compacted topic of signed ControlCommand records (rollout plans), read by every worker.";
  public static final String STATUS_TOPIC_CONFIG = "topic.status";
  static final String STATUS_TOPIC_DOC = "Topic this worker publishes its ModelStatus to (loaded versions, applied plans, rejections).";
  public static final String CONTROL_TRUSTED_KEYS_CONFIG = "control.trusted.keys";
  static final String CONTROL_TRUSTED_KEYS_DOC = "Ed25519 public keys allowed to sign control commands, as keyId=base64 (X.509) entries.";
  public static final String CONTROL_TRUSTED_KEYS_DIR_CONFIG = "control.trusted.keys.dir";
  static final String CONTROL_TRUSTED_KEYS_DIR_DOC = "Directory of <keyId>.pub files (base64 X.509 Ed25519 public keys), trusted in addition to control.trusted.keys.";
  public static final String STATUS_INTERVAL_MS_CONFIG = "status.interval.ms";
  static final String STATUS_INTERVAL_MS_DOC = "How often the worker publishes its status when nothing happens.";
  public static final String MODEL_UNLOAD_GRACE_MS_CONFIG = "model.unload.grace.ms";
  static final String MODEL_UNLOAD_GRACE_MS_DOC = "How long a version no plan uses stays loaded (buffered requests routed to it drain first).";
  public static final String WARMUP_MS_CONFIG = "warmup.ms";
  static final String WARMUP_MS_DOC = "Before joining the group, run synthetic batches of every loaded version through the"
      + " request path (Avro decode, engine, response encode) for this long, so a new worker's first answers do not"
      + " wait for JIT compilation; adds to start-up time. 0 joins at once.";
  public static final String ENGINE_RETRY_BACKOFF_MS_CONFIG = "engine.retry.backoff.ms";
  static final String ENGINE_RETRY_BACKOFF_MS_DOC = "Pauses before retrying a batch the engine failed entirely (engine down); after the last, its requests are answered ERROR.";
  public static final String MAX_TENSOR_ELEMENTS_CONFIG = "max.tensor.elements";
  static final String MAX_TENSOR_ELEMENTS_DOC = "Largest tensor (elements) a request may carry; checked from its shape before anything is allocated.";
  public static final String MAX_BATCH_BYTES_CONFIG = "max.batch.bytes";
  static final String MAX_BATCH_BYTES_DOC = "Largest input buffer of one engine call; a bigger batch is split.";
  public static final String HTTP_PORT_CONFIG = "http.port";
  static final String HTTP_PORT_DOC = "Port of /metrics (Prometheus), /health and /ready; 0 = any free port.";
  public static final String HTTP_HOST_CONFIG = "http.host";
  static final String HTTP_HOST_DOC = "Address the HTTP endpoints bind to.";
  public static final String TOPICS_CREATE_CONFIG = "topics.create";
  static final String TOPICS_CREATE_DOC = "Create missing output, control and status topics at start (the request topic must exist).";
  public static final String MAX_BATCH_SIZE_CONFIG = "max.batch.size";
  static final String MAX_BATCH_SIZE_DOC = "A batch is dispatched when it holds this many requests. Unset with"
      + " device=cuda: 256 (GPU preset: a GPU call costs much, a row little).";
  public static final String MAX_WAIT_MS_CONFIG = "max.wait.ms";
  static final String MAX_WAIT_MS_DOC = "A batch is dispatched when its oldest request has waited this long. Unset"
      + " with device=cuda: 10 (GPU preset).";
  /** The GPU preset: batching bounds used with device=cuda unless set explicitly. */
  public static final int GPU_MAX_BATCH_SIZE = 256;
  public static final long GPU_MAX_WAIT_MS = 10;
  public static final String MAX_BATCH_ELEMENTS_CONFIG = "max.batch.elements";
  static final String MAX_BATCH_ELEMENTS_DOC = "Budget of padded elements per batch: rows x the longest request (elements of"
      + " its largest input: tokens for a token-id model; for a text, its UTF-8 bytes / 4, about its tokens before they"
      + " are counted, and more than a text truncated at max_length becomes), as Hugging Face TEI's max_batch_tokens. A batch is dispatched"
      + " when the waiting requests fill it, and is never formed larger. Requests of mixed lengths are grouped with"
      + " those of similar length either way. 0 = no budget (only max.batch.size bounds a batch).";
  public static final String LATENCY_TARGET_MS_CONFIG = "batch.latency.target.ms";
  static final String LATENCY_TARGET_MS_DOC = "Adaptive batching: keep each request's time in the worker (batcher wait plus its batch's"
      + " inference) under this many ms by adjusting batch size (AIMD) and wait at run time, within max.batch.size and"
      + " max.wait.ms; 0 = fixed batching. Current values: kinfer_batch_limit_size / kinfer_batch_limit_wait_ms.";
  public static final String MERGE_BATCHES_CONFIG = "merge.batches";
  static final String MERGE_BATCHES_DOC = "Merge batches that several stream threads hand to the engine at the same time into"
      + " one engine call per model version (no added wait). Unset: false on CPU, true with device=cuda (GPU preset).";
  public static final String INFERENCE_PIPELINED_CONFIG = "inference.pipelined";
  static final String INFERENCE_PIPELINED_DOC = "Run each batch on an engine thread (one per stream thread) while the stream thread goes"
      + " on reading, buffering and committing; a task still has one batch at the engine at a time, and the requests"
      + " that arrive meanwhile form its next one. false runs batches on the stream thread, which then idles the"
      + " engine during every exactly-once commit.";
  public static final String MAX_BUFFERED_CONFIG = "max.buffered.requests";
  static final String MAX_BUFFERED_DOC = "Requests buffered per stream task above which new ones are answered REJECTED.";
  public static final String NUM_STREAM_THREADS_CONFIG = "num.stream.threads";
  static final String NUM_STREAM_THREADS_DOC = "Kafka Streams threads (each runs its own batches).";
  public static final String PROCESSING_GUARANTEE_CONFIG = "processing.guarantee";
  static final String PROCESSING_GUARANTEE_DOC = "exactly_once_v2 (default: each response written once, with the input offset) or at_least_once.";
  public static final String COMMIT_INTERVAL_MS_CONFIG = "commit.interval.ms";
  static final String COMMIT_INTERVAL_MS_DOC = "Transaction commit interval; under exactly-once a response becomes visible to read_committed consumers at the next commit, so this adds to latency.";
  public static final String DEVICE_CONFIG = "device";
  static final String DEVICE_DOC = "cpu or cuda (cuda needs the -Pgpu build and a GPU).";
  public static final String CUDA_DEVICE_ID_CONFIG = "cuda.device.id";
  static final String CUDA_DEVICE_ID_DOC = "GPU ordinal when device=cuda.";
  public static final String DEVICE_CPU_FALLBACK_CONFIG = "device.cpu.fallback";
  static final String DEVICE_CPU_FALLBACK_DOC = "When device=cuda and CUDA is unavailable: run on CPU (true) or refuse to start (false).";
  public static final String INTRA_OP_THREADS_CONFIG = "intra.op.threads";
  static final String INTRA_OP_THREADS_DOC = "ONNX Runtime threads per session; 0 = ONNX Runtime's default (one per core).";
  public static final String STATE_DIR_CONFIG = "state.dir";
  static final String STATE_DIR_DOC = "Kafka Streams state directory.";

  public static final ConfigDef CONFIG_DEF = new ConfigDef()
      .define(BOOTSTRAP_SERVERS_CONFIG, Type.STRING, "127.0.0.1:9092", Importance.HIGH, BOOTSTRAP_SERVERS_DOC)
      .define(SCHEMA_REGISTRY_URL_CONFIG, Type.STRING, "http://127.0.0.1:8081", Importance.HIGH, SCHEMA_REGISTRY_URL_DOC)
      .define(APPLICATION_ID_CONFIG, Type.STRING, "kinfer-worker", Importance.HIGH, APPLICATION_ID_DOC)
      .define(WORKER_ID_CONFIG, Type.STRING, "", Importance.LOW, WORKER_ID_DOC)
      .define(MODEL_REPOSITORY_CONFIG, Type.STRING, "models", Importance.HIGH, MODEL_REPOSITORY_DOC)
      .define(MODEL_MAX_BYTES_CONFIG, Type.LONG, 2L << 30, Range.atLeast(1), Importance.LOW, MODEL_MAX_BYTES_DOC)
      .define(MODELS_PRIMARY_CONFIG, Type.LIST, "", Importance.MEDIUM, MODELS_PRIMARY_DOC)
      .define(REQUESTS_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_REQUESTS, Importance.MEDIUM, REQUESTS_TOPIC_DOC)
      .define(PREDICTIONS_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_PREDICTIONS, Importance.MEDIUM, PREDICTIONS_TOPIC_DOC)
      .define(DLQ_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_DEAD_LETTERS, Importance.MEDIUM, DLQ_TOPIC_DOC)
      .define(SHADOW_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_SHADOW, Importance.LOW, SHADOW_TOPIC_DOC)
      .define(COMPARISONS_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_COMPARISONS, Importance.LOW, COMPARISONS_TOPIC_DOC)
      .define(CONTROL_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_CONTROL, Importance.MEDIUM, CONTROL_TOPIC_DOC)
      .define(STATUS_TOPIC_CONFIG, Type.STRING, Topics.DEFAULT_STATUS, Importance.LOW, STATUS_TOPIC_DOC)
      .define(CONTROL_TRUSTED_KEYS_CONFIG, Type.LIST, "", Importance.HIGH, CONTROL_TRUSTED_KEYS_DOC)
      .define(CONTROL_TRUSTED_KEYS_DIR_CONFIG, Type.STRING, "", Importance.HIGH, CONTROL_TRUSTED_KEYS_DIR_DOC)
      .define(STATUS_INTERVAL_MS_CONFIG, Type.LONG, 10_000L, Range.atLeast(100), Importance.LOW, STATUS_INTERVAL_MS_DOC)
      .define(MODEL_UNLOAD_GRACE_MS_CONFIG, Type.LONG, 60_000L, Range.atLeast(0), Importance.LOW, MODEL_UNLOAD_GRACE_MS_DOC)
      .define(WARMUP_MS_CONFIG, Type.LONG, 3_000L, Range.between(0, 600_000), Importance.LOW, WARMUP_MS_DOC)
      .define(ENGINE_RETRY_BACKOFF_MS_CONFIG, Type.LIST, "100,400,1600", Importance.LOW, ENGINE_RETRY_BACKOFF_MS_DOC)
      .define(MAX_TENSOR_ELEMENTS_CONFIG, Type.LONG, 1_000_000L, Range.atLeast(1), Importance.MEDIUM, MAX_TENSOR_ELEMENTS_DOC)
      .define(MAX_BATCH_BYTES_CONFIG, Type.LONG, 256L << 20, Range.atLeast(1024), Importance.LOW, MAX_BATCH_BYTES_DOC)
      .define(HTTP_PORT_CONFIG, Type.INT, 8080, Range.between(0, 65535), Importance.MEDIUM, HTTP_PORT_DOC)
      .define(HTTP_HOST_CONFIG, Type.STRING, "0.0.0.0", Importance.LOW, HTTP_HOST_DOC)
      .define(TOPICS_CREATE_CONFIG, Type.BOOLEAN, true, Importance.LOW, TOPICS_CREATE_DOC)
      .define(MAX_BATCH_SIZE_CONFIG, Type.INT, 64, Range.between(1, 65536), Importance.HIGH, MAX_BATCH_SIZE_DOC)
      .define(MAX_BATCH_ELEMENTS_CONFIG, Type.LONG, 0L, Range.atLeast(0), Importance.MEDIUM, MAX_BATCH_ELEMENTS_DOC)
      .define(MAX_WAIT_MS_CONFIG, Type.LONG, 5L, Range.between(0, 60_000), Importance.HIGH, MAX_WAIT_MS_DOC)
      .define(MERGE_BATCHES_CONFIG, Type.BOOLEAN, false, Importance.LOW, MERGE_BATCHES_DOC)
      .define(INFERENCE_PIPELINED_CONFIG, Type.BOOLEAN, true, Importance.LOW, INFERENCE_PIPELINED_DOC)
      .define(LATENCY_TARGET_MS_CONFIG, Type.LONG, 0L, Range.between(0, 60_000), Importance.MEDIUM,
          LATENCY_TARGET_MS_DOC)
      .define(MAX_BUFFERED_CONFIG, Type.INT, 20_000, Range.atLeast(1), Importance.MEDIUM, MAX_BUFFERED_DOC)
      .define(NUM_STREAM_THREADS_CONFIG, Type.INT, 1, Range.atLeast(1), Importance.MEDIUM, NUM_STREAM_THREADS_DOC)
      .define(PROCESSING_GUARANTEE_CONFIG, Type.STRING, "exactly_once_v2",
          ValidString.in("exactly_once_v2", "at_least_once"), Importance.MEDIUM, PROCESSING_GUARANTEE_DOC)
      .define(COMMIT_INTERVAL_MS_CONFIG, Type.LONG, 50L, Range.atLeast(1), Importance.MEDIUM, COMMIT_INTERVAL_MS_DOC)
      .define(DEVICE_CONFIG, Type.STRING, EngineOptions.CPU, ValidString.in(EngineOptions.CPU, EngineOptions.CUDA),
          Importance.MEDIUM, DEVICE_DOC)
      .define(CUDA_DEVICE_ID_CONFIG, Type.INT, 0, Range.atLeast(0), Importance.LOW, CUDA_DEVICE_ID_DOC)
      .define(DEVICE_CPU_FALLBACK_CONFIG, Type.BOOLEAN, false, Importance.LOW, DEVICE_CPU_FALLBACK_DOC)
      .define(INTRA_OP_THREADS_CONFIG, Type.INT, 0, Range.atLeast(0), Importance.LOW, INTRA_OP_THREADS_DOC)
      .define(STATE_DIR_CONFIG, Type.STRING, System.getProperty("java.io.tmpdir") + "/kinfer-streams",
          Importance.LOW, STATE_DIR_DOC);

  public WorkerConfig(Map<String, ?> values) {
    this(values, Map.of());
  }

  /** @param sources where each key came from, for the message about an unknown one */
  private WorkerConfig(Map<String, ?> values, Map<String, String> sources) {
    super(CONFIG_DEF, checkKnown(values, sources), false);
  }

  /**
   * Refuses a key no one reads (a misspelt setting would otherwise be silently ignored and its
   * default used), naming the nearest valid key. {@code sources} says where a key came from.
   */
  private static <V> Map<String, V> checkKnown(Map<String, V> values, Map<String, String> sources) {
    for (String key : values.keySet()) {
      if (KnownSettings.isKnown(key)) {
        continue;
      }
      String suggestion = KnownSettings.suggestion(key);
      if (suggestion.isEmpty() && key.startsWith(KAFKA_PREFIX)) {
        // Plugins take keys no client lists (config.providers.<alias>.class, interceptor and
        // metric reporter settings): passed through; only a near miss of a known key is a typo.
        LOG.warn("Passing {} to the Kafka clients although none of them lists it (a plugin's setting?)", key);
        continue;
      }
      String from = sources.containsKey(key) ? " (from " + sources.get(key) + ")" : "";
      throw new ConfigException("Unknown setting '" + key + "'" + from + "." + suggestion
          + " Worker settings are listed in docs/CONFIGURATION.md; Kafka client settings go under '"
          + KAFKA_PREFIX + "' (e.g. kafka.security.protocol).");
    }
    return values;
  }

  /** Defaults, then the file (if any), then {@code KINFER_*} environment variables. */
  public static WorkerConfig load(Path file, Map<String, String> env) {
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> sources = new HashMap<>();
    if (file != null) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(file)) {
        props.load(reader);
      } catch (IOException e) {
        throw new ConfigException("Cannot read config file " + file + ": " + e.getMessage());
      }
      props.forEach((k, v) -> {
        values.put(k.toString(), v);
        sources.put(k.toString(), file.toString());
      });
    }
    fromEnv(env).forEach((key, value) -> {
      String variable = ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_');
      // The KINFER_ namespace is shared with tools (e.g. KINFER_BROWSER for the report tests):
      // a variable that is no setting and resembles none is left alone; a near miss is a typo.
      if (!KnownSettings.isKnown(key) && KnownSettings.suggestion(key).isEmpty()) {
        LOG.warn("Ignoring environment variable {}: not a worker setting", variable);
        return;
      }
      values.put(key, value);
      sources.put(key, "environment variable " + variable);
    });
    return new WorkerConfig(values, sources);
  }

  /**
   * Whether the worker reads {@code key}: one of its own settings, or a {@value #KAFKA_PREFIX} key
   * that Kafka Streams or one of its clients lists. Stricter than loading, which passes an unlisted
   * {@code kafka.} key through with a warning (plugins have keys of their own): for checks of
   * shipped configuration, such as the Kubernetes manifests' worker.properties.
   */
  public static boolean isKnownSetting(String key) {
    return KnownSettings.isKnown(key);
  }

  /** {@code KINFER_MAX_WAIT_MS} → {@code max.wait.ms}; {@code KINFER_KAFKA_X_Y} → {@code kafka.x.y}. */
  public static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> out = new HashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith(ENV_PREFIX) && !name.equals("KINFER_LOG_LEVEL") && !name.equals("KINFER_KAFKA_LOG_LEVEL")) {
        out.put(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
      }
    });
    return out;
  }

  /**
   * Kafka client settings (security, sasl, ssl...) as worker settings: each key under
   * {@value #KAFKA_PREFIX}; bootstrap.servers is left out (the worker has its own key for it).
   */
  public static Map<String, Object> kafkaSettings(Map<String, ?> client) {
    Map<String, Object> out = new java.util.HashMap<>();
    client.forEach((k, v) -> {
      if (!k.equals("bootstrap.servers")) {
        out.put(KAFKA_PREFIX + k, v);
      }
    });
    return out;
  }

  /** max.batch.size as set, else the CPU default or, with device=cuda, the GPU preset. */
  public int maxBatchSize() {
    return originals().containsKey(MAX_BATCH_SIZE_CONFIG) || !gpu() ? getInt(MAX_BATCH_SIZE_CONFIG) : GPU_MAX_BATCH_SIZE;
  }

  /** max.wait.ms as set, else the CPU default or, with device=cuda, the GPU preset. */
  public long maxWaitMs() {
    return originals().containsKey(MAX_WAIT_MS_CONFIG) || !gpu() ? getLong(MAX_WAIT_MS_CONFIG) : GPU_MAX_WAIT_MS;
  }

  /** merge.batches as set, else false on CPU and, with device=cuda, true (GPU preset). */
  public boolean mergeBatches() {
    return originals().containsKey(MERGE_BATCHES_CONFIG) || !gpu() ? getBoolean(MERGE_BATCHES_CONFIG) : true;
  }

  private boolean gpu() {
    return EngineOptions.CUDA.equals(getString(DEVICE_CONFIG));
  }

  public String workerId() {
    String id = getString(WORKER_ID_CONFIG);
    if (!id.isBlank()) {
      return id;
    }
    try {
      return InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
    } catch (IOException e) {
      return "worker-" + ProcessHandle.current().pid();
    }
  }

  public Topics topics() {
    return new Topics(getString(REQUESTS_TOPIC_CONFIG), getString(PREDICTIONS_TOPIC_CONFIG), getString(DLQ_TOPIC_CONFIG),
        getString(SHADOW_TOPIC_CONFIG), getString(COMPARISONS_TOPIC_CONFIG), getString(CONTROL_TOPIC_CONFIG),
        getString(STATUS_TOPIC_CONFIG));
  }

  public TopologyConfig topologyConfig() {
    long[] backoff;
    try {
      backoff = getList(ENGINE_RETRY_BACKOFF_MS_CONFIG).stream().mapToLong(v -> Long.parseLong(v.trim())).toArray();
    } catch (NumberFormatException e) {
      throw new ConfigException(ENGINE_RETRY_BACKOFF_MS_CONFIG, getList(ENGINE_RETRY_BACKOFF_MS_CONFIG),
          "expected a list of milliseconds, e.g. 100,400,1600");
    }
    return new TopologyConfig(topics(), maxBatchSize(), Duration.ofMillis(maxWaitMs()),
        getInt(MAX_BUFFERED_CONFIG), workerId(), backoff, getLong(LATENCY_TARGET_MS_CONFIG),
        getLong(MAX_BATCH_ELEMENTS_CONFIG));
  }

  public EngineOptions engineOptions() {
    return new EngineOptions(getString(DEVICE_CONFIG), getInt(CUDA_DEVICE_ID_CONFIG),
        getBoolean(DEVICE_CPU_FALLBACK_CONFIG), getInt(INTRA_OP_THREADS_CONFIG),
        getLong(MAX_TENSOR_ELEMENTS_CONFIG), getLong(MAX_BATCH_BYTES_CONFIG));
  }

  /** {@code models.primary} as model → version. */
  public Map<String, String> primaryVersions() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : getList(MODELS_PRIMARY_CONFIG)) {
      String[] parts = pair.split("=", 2);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new ConfigException(MODELS_PRIMARY_CONFIG, pair, "expected model=version");
      }
      out.put(parts[0].trim(), parts[1].trim());
    }
    return out;
  }

  /** Settings for an admin client of this worker (bootstrap and the security settings passed through). */
  public Map<String, Object> adminConfig() {
    return clientConfig(org.apache.kafka.clients.admin.AdminClientConfig.configNames());
  }

  /** Settings for a plain producer of this worker (bootstrap and the client settings passed through). */
  public Map<String, Object> producerConfig() {
    return clientConfig(org.apache.kafka.clients.producer.ProducerConfig.configNames());
  }

  /** Settings for a plain consumer of this worker (bootstrap and the client settings passed through). */
  public Map<String, Object> consumerConfig() {
    return clientConfig(org.apache.kafka.clients.consumer.ConsumerConfig.configNames());
  }

  /** Bootstrap plus the passed-through settings that a client with these config names knows. */
  private Map<String, Object> clientConfig(java.util.Set<String> known) {
    Map<String, Object> out = new HashMap<>();
    kafkaPassthrough().forEach((k, v) -> {
      // Streams' group.protocol (classic|streams) is not the consumer's (classic|consumer); the
      // worker's plain consumers assign partitions and need no group protocol at all.
      if (known.contains(k) && !k.equals(org.apache.kafka.streams.StreamsConfig.GROUP_PROTOCOL_CONFIG)) {
        out.put(k, v);
      }
    });
    out.put("bootstrap.servers", getString(BOOTSTRAP_SERVERS_CONFIG));
    return out;
  }

  /** Every {@code kafka.}-prefixed key, prefix removed, for the Streams client. */
  public Map<String, Object> kafkaPassthrough() {
    return originalsWithPrefix(KAFKA_PREFIX, true);
  }

  /** The reference table for docs/CONFIGURATION.md, generated from {@link #CONFIG_DEF}. */
  public static String markdownTable() {
    StringBuilder out = new StringBuilder("| key | type | default | valid values | doc |\n|---|---|---|---|---|\n");
    for (ConfigDef.ConfigKey key : new java.util.TreeMap<>(CONFIG_DEF.configKeys()).values()) {
      String def = key.hasDefault() ? String.valueOf(key.defaultValue) : "(required)";
      if (key.name.equals(STATE_DIR_CONFIG)) {
        def = "$TMPDIR/kinfer-streams";
      }
      out.append("| `").append(key.name).append("` | ").append(key.type.name().toLowerCase(Locale.ROOT))
          .append(" | `").append(def).append("` | ").append(key.validator == null ? "" : key.validator)
          .append(" | ").append(key.documentation).append(" |\n");
    }
    return out.toString();
  }
}

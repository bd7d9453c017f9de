package io.kinfer.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigTest {
  @TempDir Path dir;

  @Test
  void shouldUseTheGpuBatchingPresetOnCudaUnlessBatchingIsSetExplicitly() {
    WorkerConfig cpu = WorkerConfig.load(null, Map.of());
    assertThat(cpu.maxBatchSize()).isEqualTo(64);
    assertThat(cpu.maxWaitMs()).isEqualTo(5);
    WorkerConfig gpu = WorkerConfig.load(null, Map.of("KINFER_DEVICE", "cuda"));
    assertThat(gpu.maxBatchSize()).isEqualTo(WorkerConfig.GPU_MAX_BATCH_SIZE);
    assertThat(gpu.maxWaitMs()).isEqualTo(WorkerConfig.GPU_MAX_WAIT_MS);
    assertThat(gpu.topologyConfig().maxBatchSize()).isEqualTo(WorkerConfig.GPU_MAX_BATCH_SIZE);
    WorkerConfig pinned = WorkerConfig.load(null, Map.of("KINFER_DEVICE", "cuda", "KINFER_MAX_BATCH_SIZE", "32"));
    assertThat(pinned.maxBatchSize()).isEqualTo(32);
    assertThat(pinned.maxWaitMs()).isEqualTo(WorkerConfig.GPU_MAX_WAIT_MS);
  }

  @Test
  void shouldApplyDefaultThenFileThenEnvironment() throws Exception {
    Path file = dir.resolve("worker.properties");
    Files.writeString(file, "max.batch.size=128\nmax.wait.ms=20\nkafka.security.protocol=SASL_SSL\n");

    WorkerConfig config = WorkerConfig.load(file, Map.of("KINFER_MAX_WAIT_MS", "7", "PATH", "/bin"));

    assertThat(config.getInt(WorkerConfig.MAX_BATCH_SIZE_CONFIG)).as("file over default").isEqualTo(128);
    assertThat(config.getLong(WorkerConfig.MAX_WAIT_MS_CONFIG)).as("env over file").isEqualTo(7);
    assertThat(config.getInt(WorkerConfig.NUM_STREAM_THREADS_CONFIG)).as("default").isEqualTo(1);
    assertThat(config.kafkaPassthrough()).containsEntry("security.protocol", "SASL_SSL");
  }

  @Test
  void shouldPassKafkaSettingsFromEnvironmentAndKeepExactlyOnce() {
    WorkerConfig config = WorkerConfig.load(null, Map.of("KINFER_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"));
    Properties streams = StreamsProperties.of(config, "test-registry");
    assertThat(streams).containsEntry("sasl.mechanism", "SCRAM-SHA-512");
    assertThat(streams).containsEntry(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, "exactly_once_v2");
    assertThat(streams).containsEntry(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
  }

  @Test
  void shouldReadTheControlTopicCommittedOnlyUnderEitherGuarantee() {
    for (String guarantee : java.util.List.of("exactly_once_v2", "at_least_once")) {
      WorkerConfig config = new WorkerConfig(Map.of(WorkerConfig.PROCESSING_GUARANTEE_CONFIG, guarantee));
      StreamsConfig streams = new StreamsConfig(StreamsProperties.of(config, "test-registry"));
      assertThat(streams.getGlobalConsumerConfigs("w").get("isolation.level")).as(guarantee)
          .isEqualTo("read_committed");
    }
  }

  @Test
  void shouldNameTheKeyOfABadValue() {
    assertThatThrownBy(() -> WorkerConfig.load(null, Map.of("KINFER_MAX_BATCH_SIZE", "0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("max.batch.size");
    assertThatThrownBy(() -> WorkerConfig.load(null, Map.of("KINFER_DEVICE", "tpu")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("device").hasMessageContaining("cuda");
    assertThatThrownBy(() -> new WorkerConfig(Map.of(WorkerConfig.MODELS_PRIMARY_CONFIG, "mlp")).primaryVersions())
        .isInstanceOf(ConfigException.class).hasMessageContaining("model=version");
  }

  @Test
  void shouldKeepTheConfigurationReferenceInSyncWithTheCode() throws Exception {
    String doc = Files.readString(Path.of("../docs/CONFIGURATION.md"));
    assertThat(doc).as("regenerate with: scripts/config-docs.sh")
        .contains(WorkerConfig.markdownTable());
  }

  @Test
  void shouldRefuseAnUnknownSettingNamingWhereItCameFromAndTheNearestKey() throws Exception {
    Path file = dir.resolve("worker.properties");
    Files.writeString(file, "max.batch.sise=128\n");
    assertThatThrownBy(() -> WorkerConfig.load(file, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Unknown setting 'max.batch.sise' (from " + file + ")")
        .hasMessageContaining("Did you mean 'max.batch.size'?");
    assertThatThrownBy(() -> WorkerConfig.load(null, Map.of("KINFER_MAX_WAIT", "5")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("(from environment variable KINFER_MAX_WAIT)")
        .hasMessageContaining("Did you mean 'max.wait.ms'?");
    assertThat(WorkerConfig.load(null, Map.of("KINFER_BROWSER", "/usr/bin/chromium")).maxBatchSize())
        .as("a variable of another tool in the KINFER_ namespace, like no setting: ignored").isEqualTo(64);
    assertThatThrownBy(() -> new WorkerConfig(Map.of("kafka.security.protocl", "SASL_SSL")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("Did you mean 'kafka.security.protocol'?");
    assertThatThrownBy(() -> new WorkerConfig(Map.of("colour", "blue")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("Unknown setting 'colour'")
        .hasMessageNotContaining("Did you mean");
  }

  @Test
  void shouldAcceptEveryKafkaClientSettingWithStreamsClientPrefixes() {
    WorkerConfig config = new WorkerConfig(Map.of("kafka.security.protocol", "SASL_SSL",
        "kafka.producer.linger.ms", "5", "kafka.main.consumer.fetch.min.bytes", "1",
        "kafka.topic.min.insync.replicas", "2", "kafka.num.standby.replicas", "1", "kafka.group.protocol", "streams",
        "kafka.config.providers", "file",
        "kafka.config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"));
    assertThat(config.kafkaPassthrough()).as("a plugin's own keys pass too").hasSize(8);
    assertThat(config.consumerConfig()).as("Streams' group.protocol=streams is no consumer's value (classic|consumer)")
        .doesNotContainKey("group.protocol").containsEntry("security.protocol", "SASL_SSL");
  }

  /**
   * Answers must be readable by the common clients without plugins or extra packages: kafkajs and
   * kafka-python decode only gzip natively (docs/CONFIGURATION.md). The codec stays one setting away.
   */
  @Test
  void shouldProduceUncompressedByDefaultAndTakeTheCodecFromKafkaProducerCompressionType() {
    Map<String, Object> byDefault = new StreamsConfig(StreamsProperties.of(new WorkerConfig(Map.of()), "test-registry"))
        .getProducerConfigs("p");
    assertThat(byDefault.get("compression.type")).isEqualTo("none");

    WorkerConfig zstd = WorkerConfig.load(null, Map.of("KINFER_KAFKA_PRODUCER_COMPRESSION_TYPE", "zstd"));
    assertThat(new StreamsConfig(StreamsProperties.of(zstd, "test-registry")).getProducerConfigs("p")
        .get("compression.type")).isEqualTo("zstd");
    // As docs/CONFIGURATION.md warns: without the producer. prefix the worker's prefixed default wins.
    WorkerConfig unprefixed = new WorkerConfig(Map.of("kafka.compression.type", "gzip"));
    assertThat(new StreamsConfig(StreamsProperties.of(unprefixed, "test-registry")).getProducerConfigs("p")
        .get("compression.type")).isEqualTo("none");
    assertThat(unprefixed.producerConfig()).containsEntry("compression.type", "gzip");
  }

  /**
   * A killed member holds its partitions until the session timeout: the classic protocol's 45 s
   * default stalled them 47 s in ops bench --scale, 6 s gave 13 s. The streams protocol refuses
   * client-side timeouts (the broker's group config decides), so none are set there.
   */
  @Test
  void shouldDetectADeadMemberWithinSixSecondsUnderTheClassicProtocolAndLeaveTheStreamsProtocolToTheBroker() {
    Map<String, Object> classic = new StreamsConfig(StreamsProperties.of(new WorkerConfig(Map.of()), "test-registry"))
        .getMainConsumerConfigs("g", "c", 0);
    assertThat(classic).containsEntry("session.timeout.ms", 6_000).containsEntry("heartbeat.interval.ms", 1_500);

    WorkerConfig longer = new WorkerConfig(Map.of("kafka.session.timeout.ms", "45000"));
    assertThat(new StreamsConfig(StreamsProperties.of(longer, "test-registry")).getMainConsumerConfigs("g", "c", 0))
        .containsEntry("session.timeout.ms", "45000");

    WorkerConfig streams = new WorkerConfig(Map.of("kafka.group.protocol", "streams"));
    assertThat(StreamsProperties.of(streams, "test-registry"))
        .doesNotContainKeys("session.timeout.ms", "heartbeat.interval.ms");
  }

  @Test
  void shouldLetTheBrokerAbortAStalledWorkersTransactionAfterFiveSecondsUnderExactlyOnce() {
    StreamsConfig exactlyOnce = new StreamsConfig(StreamsProperties.of(new WorkerConfig(Map.of()), "test-registry"));
    assertThat(exactlyOnce.getProducerConfigs("c")).containsEntry("transaction.timeout.ms", 5_000);

    WorkerConfig longer = new WorkerConfig(Map.of("kafka.producer.transaction.timeout.ms", "30000"));
    assertThat(new StreamsConfig(StreamsProperties.of(longer, "test-registry")).getProducerConfigs("c"))
        .containsEntry("transaction.timeout.ms", "30000");

    WorkerConfig slowCommits = new WorkerConfig(Map.of(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG, "10000"));
    assertThat(new StreamsConfig(StreamsProperties.of(slowCommits, "test-registry")).getProducerConfigs("c"))
        .containsEntry("transaction.timeout.ms", 20_000);

    WorkerConfig atLeastOnce = new WorkerConfig(Map.of(WorkerConfig.PROCESSING_GUARANTEE_CONFIG, "at_least_once"));
    assertThat(StreamsProperties.of(atLeastOnce, "test-registry"))
        .doesNotContainKey(StreamsConfig.producerPrefix("transaction.timeout.ms"));
  }

  /**
   * Static membership from the environment (e.g. a pod name as KINFER_KAFKA_MAIN_CONSUMER_GROUP_INSTANCE_ID;
   * deploy/k8s no longer sets it, see ARCHITECTURE.md) for each stream thread's main consumer (Streams appends the thread index), and for no other
   * consumer of the worker (status reader, restore, global control-topic consumer).
   */
  @Test
  void shouldGiveStaticMembershipFromThePodNameToTheMainConsumersOnly() {
    WorkerConfig config = WorkerConfig.load(null, Map.of("KINFER_KAFKA_MAIN_CONSUMER_GROUP_INSTANCE_ID", "kinfer-worker-1",
        "KINFER_WORKER_ID", "kinfer-worker-1", "KINFER_NUM_STREAM_THREADS", "2"));
    assertThat(config.workerId()).isEqualTo("kinfer-worker-1");
    StreamsConfig streams = new StreamsConfig(StreamsProperties.of(config, "test-registry"));
    assertThat(streams.getMainConsumerConfigs("kinfer-worker", "c", 0)).containsEntry("group.instance.id", "kinfer-worker-1-0");
    assertThat(streams.getMainConsumerConfigs("kinfer-worker", "c", 1)).containsEntry("group.instance.id", "kinfer-worker-1-1");
    assertThat(streams.getRestoreConsumerConfigs("c")).doesNotContainKey("group.instance.id");
    assertThat(streams.getGlobalConsumerConfigs("c")).doesNotContainKey("group.instance.id");
    assertThat(config.consumerConfig()).doesNotContainKey("group.instance.id");
  }

  @Test
  void shouldTellShippedConfigurationWhichKeysTheWorkerKnows() {
    assertThat(WorkerConfig.isKnownSetting("max.batch.size")).isTrue();
    assertThat(WorkerConfig.isKnownSetting("kafka.main.consumer.group.instance.id")).isTrue();
    assertThat(WorkerConfig.isKnownSetting("kafka.sasl.jaas.config")).isTrue();
    assertThat(WorkerConfig.isKnownSetting("max.batch.sise")).isFalse();
    // Loading passes an unlisted kafka. key through with a warning (plugins); isKnownSetting does not.
    assertThat(WorkerConfig.isKnownSetting("kafka.config.providers.file.class")).isFalse();
    assertThat(WorkerConfig.fromEnv(Map.of("KINFER_KAFKA_SASL_JAAS_CONFIG", "x", "PATH", "/bin")))
        .isEqualTo(Map.of("kafka.sasl.jaas.config", "x"));
  }
}

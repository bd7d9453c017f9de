package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.control.AutoCanary;
import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.OperatorKey;
import io.kinfer.client.control.TopicReader;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.bench.PrometheusText;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.evaluation.Gates;
import io.kinfer.evaluation.PairSummary;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Rollouts driven by signed commands on a real broker while requests flow. */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolloutEndToEndTest {
  private static final Topics TOPICS = Topics.defaults();
  private static final String BAD = "4";
  @TempDir static Path dir;
  private TestKafka kafka;
  private EmbeddedSchemaRegistry registry;
  private RestSchemaRegistryClient client;
  private Path models;
  private Path keys;
  private Path keyFile;

  @BeforeAll
  void startStack() throws Exception {
    kafka = TestKafka.start();
    registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0);
    client = new RestSchemaRegistryClient(registry.url());
    models = dir.resolve("models");
    SampleModels.writeAll(models);
    SampleModels.writeMlp(models, BAD, 4.0); // output layer scrambled: disagrees with v1 on most inputs
    keys = dir.resolve("keys");
    keyFile = OperatorKey.ensure(keys, "ops");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(TOPICS.requests(), 2, (short) 1),
          new NewTopic(TOPICS.predictions(), 2, (short) 1), new NewTopic(TOPICS.deadLetters(), 1, (short) 1),
          new NewTopic(TOPICS.shadow(), 2, (short) 1), new NewTopic(TOPICS.comparisons(), 2, (short) 1),
          new NewTopic(TOPICS.control(), 1, (short) 1).configs(Map.of("cleanup.policy", "compact")),
          new NewTopic(TOPICS.history().name(), 1, (short) 1),
          new NewTopic(TOPICS.status(), 1, (short) 1))).all().get();
    }
  }

  @AfterAll
  void stopStack() {
    registry.close();
    kafka.close();
  }

  private Worker startWorker(String appId) {
    Worker worker = Worker.start(new WorkerConfig(Map.of(
        WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
        WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
        WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
        WorkerConfig.APPLICATION_ID_CONFIG, appId,
        WorkerConfig.WORKER_ID_CONFIG, appId + "-w",
        WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG, keys.toString(),
        WorkerConfig.STATUS_INTERVAL_MS_CONFIG, 500,
        WorkerConfig.HTTP_PORT_CONFIG, 0)));
    await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
    return worker;
  }

  private ControlClient control() throws Exception {
    return new ControlClient(kafka.bootstrapServers(), client, TOPICS, "ops", OperatorKey.readPrivate(keyFile), "test");
  }

  private static void awaitApplied(Worker worker, ControlCommand command) {
    await().atMost(Duration.ofSeconds(30)).until(() -> worker.routes().plan(command.getModel())
        .map(p -> p.generation() == command.getGeneration()).orElse(false));
  }

  @Test
  void shouldSwitchPlansUnderLoadAnsweringEachRequestOnceFromAVersionThePlanAllowed() throws Exception {
    RequestFactory factory = new RequestFactory("switch", 5);
    Map<String, InferenceResponse> answers = new ConcurrentHashMap<>();
    Map<Long, Set<String>> allowed = new HashMap<>();
    List<ControlCommand> issued = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean loading = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    try (ControlClient ops = control(); Worker worker = startWorker("rollout-switch");
        PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client, TOPICS.predictions(),
            factory, r -> answers.put(r.getId(), r));
        LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, TOPICS.requests(), factory)) {
      issue(worker, ops.deploy("mlp", "1"), issued, allowed);
      Thread load = new Thread(() -> {
        while (loading.get()) { // continuous load, in chunks, until every plan change is done
          generator.run(sent.get(), 400, 2_000);
          sent.addAndGet(400);
        }
      }, "rollout-load");
      load.start();
      for (var change : List.<java.util.function.Supplier<ControlCommand>>of(() -> ops.deploy("mlp", "1"),
          () -> ops.canary("mlp", "2", 10), () -> ops.shadow("mlp", "2", 1.0), () -> ops.promote("mlp"),
          () -> ops.rollback("mlp"))) {
        long generation = issued.get(issued.size() - 1).getGeneration();
        await().atMost(Duration.ofMinutes(1)).until(() -> answers.values().stream()
            .filter(r -> r.getPlanGeneration() == generation).count() >= 300);
        issue(worker, change.get(), issued, allowed);
      }
      long lastGeneration = issued.get(issued.size() - 1).getGeneration();
      await().atMost(Duration.ofMinutes(1)).until(() -> answers.values().stream()
          .filter(r -> r.getPlanGeneration() == lastGeneration).count() >= 300);
      loading.set(false);
      load.join();
      long total = sent.get();
      await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= total);

      assertThat(tracker.missing(total)).isZero();
      assertThat(tracker.duplicates()).isZero();
      assertThat(answers.values()).allSatisfy(r -> {
        assertThat(allowed).containsKey(r.getPlanGeneration());
        assertThat(allowed.get(r.getPlanGeneration())).as("generation " + r.getPlanGeneration())
            .contains(r.getVersion());
        assertThat(r.getVariant()).isNotEqualTo("SHADOW");
      });
    }
    issued.remove(0); // the first deploy only set the starting point
    ControlCommand shadowPlan = issued.get(2);
    ControlCommand rolledBack = issued.get(4);
    assertThat(rolledBack.getRoutes()).as("rollback restores the plan before promote").isEqualTo(shadowPlan.getRoutes());
    assertThat(rolledBack.getSalt()).isEqualTo(shadowPlan.getSalt());
    assertThat(rolledBack.getGeneration()).isGreaterThan(issued.get(3).getGeneration());
    assertShadowsAndComparisons(factory);
  }

  private static void issue(Worker worker, ControlCommand command, List<ControlCommand> issued,
      Map<Long, Set<String>> allowed) {
    issued.add(command);
    allowed.put(command.getGeneration(), command.getRoutes().stream().filter(r -> r.getRole() != Role.SHADOW)
        .map(Route::getVersion).collect(Collectors.toSet()));
    awaitApplied(worker, command);
  }

  private void assertShadowsAndComparisons(RequestFactory factory) {
    List<InferenceResponse> shadows = new ArrayList<>();
    AvroWireDeserializer<InferenceResponse> responses = new AvroWireDeserializer<>(client, InferenceResponse.getClassSchema());
    TopicReader.read(kafka.bootstrapServers(), TOPICS.shadow(), new StringDeserializer(), new ByteArrayDeserializer(), 0,
        r -> {
          InferenceResponse response = responses.deserialize(TOPICS.shadow(), r.value());
          if (factory.index(response.getId()) >= 0) { // this test's requests only; the topic is shared
            shadows.add(response);
          }
        });
    assertThat(shadows).isNotEmpty().allSatisfy(r -> {
      assertThat(r.getVariant()).isEqualTo("SHADOW");
      assertThat(r.getVersion()).isEqualTo("2");
    });
    List<ShadowComparison> comparisons = new ArrayList<>();
    AvroWireDeserializer<ShadowComparison> decoder = new AvroWireDeserializer<>(client, ShadowComparison.getClassSchema());
    TopicReader.read(kafka.bootstrapServers(), TOPICS.comparisons(), new StringDeserializer(), new ByteArrayDeserializer(), 0,
        r -> {
          ShadowComparison comparison = decoder.deserialize(TOPICS.comparisons(), r.value());
          if (factory.index(comparison.getId()) >= 0) {
            comparisons.add(comparison);
          }
        });
    assertThat(comparisons).hasSameSizeAs(shadows);
    ModelVersion v1 = new ModelVersion("mlp", "1");
    ModelVersion v2 = new ModelVersion("mlp", "2");
    int disagreements = 0;
    try (OnnxEngine direct = new OnnxEngine(EngineOptions.cpu())) {
      ModelRepository repository = new ModelRepository(models, 1 << 30);
      direct.load(repository.load(v1));
      direct.load(repository.load(v2));
      for (ShadowComparison c : comparisons) {
        var request = factory.request(factory.index(c.getId()));
        assertThat(c.getPrimaryVersion()).isNotEqualTo(c.getShadowVersion());
        float[] a = ShadowComparator.floats(direct.infer(new ModelVersion("mlp", c.getPrimaryVersion()), List.of(request))
            .outcomes().get(0).outputs().get(0));
        float[] b = ShadowComparator.floats(direct.infer(v2, List.of(request)).outcomes().get(0).outputs().get(0));
        boolean agree = ShadowComparator.argmax(a) == ShadowComparator.argmax(b);
        assertThat(c.getTop1Agree()).as(c.getId()).isEqualTo(agree);
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        assertThat(c.getMaxAbsDiff()).isCloseTo(diff, within(1e-5));
        disagreements += agree ? 0 : 1;
      }
    }
    assertThat(disagreements).as("v1 and v2 differ on some requests").isPositive();
  }

  @Test
  void shouldRejectUnsignedAndUnloadablePlansAndKeepKeysOnTheirVersionAcrossRestart() throws Exception {
    Path corrupt = models.resolve("mlp/3");
    Files.createDirectories(corrupt);
    Files.copy(models.resolve("mlp/2/model.onnx"), corrupt.resolve("model.onnx"));
    Files.writeString(corrupt.resolve("model.json"), Files.readString(models.resolve("mlp/2/model.json"))
        .replace("\"version\" : \"2\"", "\"version\" : \"3\"").replaceAll("\"sha256\" : \"[0-9a-f]+\"",
            "\"sha256\" : \"" + "0".repeat(64) + "\""));
    RequestFactory factory = new RequestFactory("sticky", 9);
    Map<String, String> before;
    ControlCommand ab;
    ControlCommand unloadable;
    try (ControlClient ops = control(); Worker worker = startWorker("rollout-sticky")) {
      ab = ops.ab("mlp", Map.of("1", 50.0, "2", 50.0));
      awaitApplied(worker, ab);
      before = versionsByKey(factory, 0);

      sendUnsigned(ab, ab.getGeneration() + 10);
      unloadable = ops.deploy("mlp", "3");
      await().atMost(Duration.ofSeconds(30)).until(() -> statusEvents().stream().anyMatch(e ->
          e.contains("generation " + unloadable.getGeneration()) && e.contains("sha256 mismatch")));
      assertThat(statusEvents()).anyMatch(e -> e.contains("rejected mlp") && e.contains("unsigned command"));
      assertThat(worker.routes().plan("mlp").orElseThrow().generation()).isEqualTo(ab.getGeneration());
    }
    try (Worker restarted = startWorker("rollout-sticky")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> restarted.routes().plan("mlp")
          .map(p -> p.generation() == ab.getGeneration()).orElse(false));
      // The restart replayed both bad commands; a new one after it is still reported. Its report
      // follows every replayed one (events go out in order), so once it is there, any republished
      // rejection would be too.
      long fresh = unloadable.getGeneration() + 10;
      sendUnsigned(ab, fresh);
      await().atMost(Duration.ofSeconds(30)).until(() -> rejectionsOf("rollout-sticky-w", fresh) == 1);
      assertThat(rejectionsOf("rollout-sticky-w", ab.getGeneration() + 10)).as("unsigned, rejected before the restart")
          .isEqualTo(1);
      assertThat(rejectionsOf("rollout-sticky-w", unloadable.getGeneration())).as("unloadable, rejected before the restart")
          .isEqualTo(1);
      Map<String, String> after = versionsByKey(factory, 1000);
      assertThat(after).isEqualTo(before);
      assertThat(before.values().stream().distinct()).as("both variants in use").hasSize(2);
    } finally {
      Files.walk(corrupt).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void shouldExportEverySeriesTheDashboardAndAlertRulesQuery() throws Exception {
    RequestFactory factory = new RequestFactory("metrics", 3);
    try (ControlClient ops = control(); Worker worker = startWorker("rollout-metrics");
        PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client, TOPICS.predictions(),
            factory, null);
        LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, TOPICS.requests(), factory)) {
      ops.deploy("mlp", "1");
      ControlCommand shadowed = ops.shadow("mlp", "2", 1.0);
      awaitApplied(worker, shadowed);
      generator.run(0, 300, 0);
      generator.producer().send(new ProducerRecord<>(TOPICS.requests(), "bad", null)).get();
      try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of("bootstrap.servers", kafka.bootstrapServers()),
          new org.apache.kafka.common.serialization.ByteArraySerializer(),
          new org.apache.kafka.common.serialization.ByteArraySerializer())) {
        raw.send(new ProducerRecord<>(TOPICS.requests(), "bad".getBytes(), "not avro".getBytes())).get();
        raw.send(new ProducerRecord<>(TOPICS.control(), "mlp".getBytes(), "not a command".getBytes())).get();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> tracker.answered() >= 300);
      await().atMost(Duration.ofSeconds(30)).until(() -> !missingSeries(worker).contains("kinfer_control_rejected_total")
          && !missingSeries(worker).contains("kinfer_dead_letters_total"));
      assertThat(missingSeries(worker)).isEmpty();
    }
  }

  private static Set<String> missingSeries(Worker worker) throws Exception {
    String body = EndToEndTest.http(worker, "/metrics").body();
    Set<String> exported = new java.util.TreeSet<>();
    PrometheusText.parse(body).keySet().forEach(series -> exported.add(series.replaceAll("\\{.*", "")));
    Set<String> missing = new java.util.TreeSet<>(io.kinfer.ops.deploy.DeploymentFilesTest.referencedMetrics());
    missing.removeAll(exported);
    return missing;
  }

  /** Sends one request for each of 200 keys and returns the version that answered each key. */
  private Map<String, String> versionsByKey(RequestFactory factory, long offset) throws Exception {
    Map<String, String> byKey = new ConcurrentHashMap<>();
    Map<String, String> keyOfId = new ConcurrentHashMap<>();
    try (PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client, TOPICS.predictions(),
            factory, r -> {
              String key = keyOfId.get(r.getId());
              if (key != null) {
                byKey.put(key, r.getVersion());
              }
            });
        KafkaProducer<String, io.kinfer.schemas.InferenceRequest> producer = new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers()), new StringSerializer(),
            new AvroWireSerializer<>(client, io.kinfer.schemas.InferenceRequest.getClassSchema(), false))) {
      for (int k = 0; k < 200; k++) {
        long index = offset + k;
        keyOfId.put(factory.id(index), "user-" + k);
        producer.send(new ProducerRecord<>(TOPICS.requests(), "user-" + k, factory.request(index)));
      }
      producer.flush();
      await().atMost(Duration.ofSeconds(60)).until(() -> byKey.size() == 200);
    }
    return new HashMap<>(byKey);
  }

  /** An unsigned copy of {@code base} with {@code generation}, straight onto the control topic. */
  private void sendUnsigned(ControlCommand base, long generation) throws Exception {
    try (KafkaProducer<String, ControlCommand> raw = new KafkaProducer<>(Map.of("bootstrap.servers",
        kafka.bootstrapServers()), new StringSerializer(),
        new AvroWireSerializer<>(client, ControlCommand.getClassSchema(), false))) {
      raw.send(new ProducerRecord<>(TOPICS.control(), "mlp", ControlCommand.newBuilder(base)
          .setGeneration(generation).setSignature(null).setKeyId(null)
          .setRoutes(List.of(new Route("2", Role.PRIMARY, 1.0))).setIssuedAt(Instant.now()).build())).get();
    }
  }

  /** How many status records of {@code worker} report the rejection of generation {@code generation} of mlp. */
  private long rejectionsOf(String worker, long generation) {
    AvroWireDeserializer<ModelStatus> decoder = new AvroWireDeserializer<>(client, ModelStatus.getClassSchema());
    List<String> events = new ArrayList<>();
    TopicReader.read(kafka.bootstrapServers(), TOPICS.status(), new StringDeserializer(), new ByteArrayDeserializer(), 0,
        r -> {
          if (worker.equals(r.key())) {
            events.addAll(decoder.deserialize(TOPICS.status(), r.value()).getEvents());
          }
        });
    return events.stream().filter(e -> e.startsWith("rejected mlp generation " + generation + ":")).count();
  }

  private List<String> statusEvents() {
    List<String> events = new ArrayList<>();
    AvroWireDeserializer<ModelStatus> decoder = new AvroWireDeserializer<>(client, ModelStatus.getClassSchema());
    TopicReader.read(kafka.bootstrapServers(), TOPICS.status(), new StringDeserializer(), new ByteArrayDeserializer(), 0,
        r -> events.addAll(decoder.deserialize(TOPICS.status(), r.value()).getEvents()));
    return events;
  }

  @Test
  void shouldPromoteAGoodCanaryAndRestoreThePlanWhenABadOneFailsItsGates() throws Exception {
    RequestFactory factory = new RequestFactory("auto-canary", 9);
    java.util.concurrent.atomic.AtomicBoolean loading = new java.util.concurrent.atomic.AtomicBoolean(true);
    AutoCanary.Settings settings = new AutoCanary.Settings(10, Gates.parse("top1_agreement>=0.8,failed_rate<=0.01"),
        300, Duration.ofSeconds(90), 1e-5);
    Map<String, Object> kafkaClient = Map.of("bootstrap.servers", kafka.bootstrapServers());
    try (ControlClient ops = control(); Worker worker = startWorker("rollout-auto");
        LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, TOPICS.requests(), factory)) {
      awaitApplied(worker, ops.deploy("mlp", "1"));
      Thread load = new Thread(() -> {
        long sent = 0;
        while (loading.get()) {
          generator.run(sent, 200, 1_000);
          sent += 200;
        }
      }, "auto-canary-load");
      load.start();
      try {
        AutoCanary.Decision good = AutoCanary.run(ops, kafkaClient, client, TOPICS, "mlp", "2", settings, System.out);
        assertThat(good.promoted()).as(good.reason()).isTrue();
        assertThat(good.plan().getRoutes()).containsExactly(new Route("2", Role.PRIMARY, 1.0));
        awaitApplied(worker, good.plan());

        AutoCanary.Decision bad = AutoCanary.run(ops, kafkaClient, client, TOPICS, "mlp", BAD, settings, System.out);
        assertThat(bad.promoted()).as(bad.reason()).isFalse();
        assertThat(bad.reason()).contains("a gate failed", "top1_agreement");
        assertThat(bad.plan().getRoutes()).as("the plan before the canary, re-issued")
            .isEqualTo(good.plan().getRoutes());
        awaitApplied(worker, bad.plan());
        PairSummary badPair = bad.report().comparisons().get(0);
        assertThat(badPair.candidate()).isEqualTo("mlp:" + BAD);
        assertThat(badPair.baseline()).isEqualTo("mlp:2");
      } finally {
        loading.set(false);
        load.join();
      }
      AvroWireDeserializer<ModelStatus> decoder = new AvroWireDeserializer<>(client, ModelStatus.getClassSchema());
      List<String> decisions = new ArrayList<>();
      TopicReader.read(kafka.bootstrapServers(), TOPICS.status(), new StringDeserializer(), new ByteArrayDeserializer(),
          0, r -> {
            if (r.key().startsWith(AutoCanary.STATUS_KEY_PREFIX)) {
              decoder.deserialize(TOPICS.status(), r.value()).getEvents().forEach(e -> decisions.add(e.toString()));
            }
          });
      assertThat(decisions).hasSize(2);
      assertThat(decisions.get(0)).startsWith("promoted mlp:2");
      assertThat(decisions.get(1)).startsWith("rolled back mlp:" + BAD);
    }
  }
}

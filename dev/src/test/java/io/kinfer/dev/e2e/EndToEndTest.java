package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.load.Settled;
import io.kinfer.dev.bench.PrometheusText;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelRepository;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole path on a real broker: Avro requests in, batched ONNX Runtime, predictions out. */
@Tag("integration")
class EndToEndTest {
  private static final int REQUESTS = 10_000;
  private static final ModelVersion MLP_2 = new ModelVersion(SampleModels.MLP, "2");

  @TempDir Path dir;

  /** Both of Kafka 4.4's rebalance protocols: the classic one and the broker-driven streams one (KIP-1071). */
  @ParameterizedTest(name = "group.protocol={0}")
  @ValueSource(strings = {"classic", "streams"})
  void shouldAnswerEveryRequestExactlyOnceWithTheModelsOutput(String groupProtocol) throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 3, (short) 1),
            new NewTopic(Topics.DEFAULT_PREDICTIONS, 3, (short) 1),
            new NewTopic(Topics.DEFAULT_DEAD_LETTERS, 1, (short) 1))).all().get();
      }
      WorkerConfig config = new WorkerConfig(Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.WORKER_ID_CONFIG, "e2e-worker",
          WorkerConfig.MAX_BATCH_SIZE_CONFIG, 32,
          WorkerConfig.HTTP_PORT_CONFIG, 0,
          WorkerConfig.KAFKA_PREFIX + StreamsConfig.GROUP_PROTOCOL_CONFIG, groupProtocol));
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      RequestFactory factory = new RequestFactory("e2e", 99);
      Map<String, InferenceResponse> answers = new ConcurrentHashMap<>();
      try (Worker worker = Worker.start(config);
          PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client,
              Topics.DEFAULT_PREDICTIONS, factory, r -> answers.put(r.getId(), r));
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS, factory)) {
        assertThat(http(worker, "/ready").statusCode()).as("not ready before Streams runs").isEqualTo(503);
        await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
        await().atMost(Duration.ofSeconds(10)).until(() -> http(worker, "/ready").statusCode() == 200);

        generator.run(0, REQUESTS, 0);
        await().atMost(Duration.ofMinutes(3)).until(() -> tracker.answered() >= REQUESTS);
        // Anything still in flight would show up as a duplicate once every input is committed.
        Settled.untilNoneInFlight(kafka.bootstrapServers(), config.getString(WorkerConfig.APPLICATION_ID_CONFIG), Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS, tracker,
            Duration.ofSeconds(30));

        assertThat(tracker.missing(REQUESTS)).as("lost on " + kafka.kind()).isZero();
        assertThat(tracker.duplicates()).as("duplicates on " + kafka.kind()).isZero();
        assertThat(tracker.foreign()).isZero();
        assertThat(tracker.statuses()).containsExactly(Map.entry(Status.OK, (long) REQUESTS));
        assertThat(tracker.meanBatchSize()).isGreaterThan(1.0);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
          String group = config.getString(WorkerConfig.APPLICATION_ID_CONFIG);
          assertThat(admin.listGroups().all().get()).filteredOn(g -> g.groupId().equals(group))
              .as("the group runs the protocol asked for").singleElement()
              .satisfies(g -> assertThat(g.type()).contains(GroupType.parse(groupProtocol)));
        }

        HttpResponse<String> health = http(worker, "/health");
        assertThat(health.statusCode()).isEqualTo(200);
        Map<String, Double> metrics = PrometheusText.parse(http(worker, "/metrics").body());
        assertThat(metrics).containsEntry("kinfer_requests_total{model=\"mlp\"}", (double) REQUESTS);
        assertThat(metrics).containsEntry(
            "kinfer_responses_total{model=\"mlp\",status=\"OK\",variant=\"PRIMARY\",version=\"2\"}", (double) REQUESTS);
        assertThat(metrics.get("kinfer_batch_size_count{model=\"mlp\",version=\"2\"}")).isPositive();
        assertThat(metrics.keySet()).anyMatch(k -> k.startsWith("kafka_stream_thread_metrics_commit_latency_avg{"));
        assertThat(metrics.keySet()).anyMatch(k -> k.startsWith("kafka_consumer_fetch_manager_metrics_records_lag_max{"));
        assertThat(metrics.keySet()).anyMatch(k -> k.startsWith("jvm_memory_used_bytes{"));
      }
      assertOutputsEqualDirectOnnxRuntime(models, factory, answers);
    }
  }

  private static void assertOutputsEqualDirectOnnxRuntime(Path models, RequestFactory factory,
      Map<String, InferenceResponse> answers) {
    try (OnnxEngine direct = new OnnxEngine(EngineOptions.cpu())) {
      direct.load(new ModelRepository(models, 1 << 30).load(MLP_2));
      for (int i = 0; i < REQUESTS; i++) {
        InferenceResponse answer = answers.get(factory.id(i));
        assertThat(answer.getVersion()).isEqualTo("2");
        BatchResult expected = direct.infer(MLP_2, List.of(factory.request(i)));
        float[] want = floats(expected.outcomes().get(0).outputs().get(0).getRaw().duplicate());
        float[] got = floats(answer.getOutputs().get(0).getRaw().duplicate());
        assertThat(got).hasSize(SampleModels.MLP_CLASSES);
        for (int c = 0; c < want.length; c++) {
          assertThat(got[c]).as("request %d class %d", i, c).isCloseTo(want[c], within(1e-5f));
        }
      }
    }
  }

  static HttpResponse<String> http(Worker worker, String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + worker.httpPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static float[] floats(java.nio.ByteBuffer raw) {
    FloatBuffer fb = raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }
}

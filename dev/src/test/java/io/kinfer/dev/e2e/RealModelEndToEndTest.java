package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.ShapeModelRequests;
import io.kinfer.worker.models.ShapeModels;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real public transformer (all-MiniLM-L6-v2, shipped by a Maven package), imported as {@code ops
 * models import} does, served over a real broker: requests of a long-tailed length mix are padded
 * into length-aware batches, and every answer equals ONNX Runtime run on that request alone; each
 * routing key's answers arrive in its request order.
 */
@Tag("integration")
class RealModelEndToEndTest {
  private static final int REQUESTS = 400;
  private static final int MAX_TOKENS = 128;

  @TempDir Path dir;

  @Test
  void shouldServeATransformerInPaddedBatchesWithTheAnswersItGivesAlone() throws Exception {
    Path models = dir.resolve("models");
    PackagedModels.importMiniLm(models, "1", 32);
    ShapeModels.writeTypes(models);
    ShapeModels.writeZipMap(models);
    RequestFactory factory = RequestFactory.tokens("minilm", 5, PackagedModels.MINILM, MAX_TOKENS, 12);
    Map<String, InferenceResponse> answers = new ConcurrentHashMap<>();
    Map<String, List<Long>> answeredPerKey = new ConcurrentHashMap<>();
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 2, (short) 1),
            new NewTopic(Topics.DEFAULT_PREDICTIONS, 2, (short) 1),
            new NewTopic(Topics.DEFAULT_DEAD_LETTERS, 1, (short) 1))).all().get();
      }
      WorkerConfig config = new WorkerConfig(Map.of(
          WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
          WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
          WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
          WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
          WorkerConfig.WORKER_ID_CONFIG, "real-model-worker",
          WorkerConfig.MAX_BATCH_SIZE_CONFIG, 32,
          WorkerConfig.MAX_WAIT_MS_CONFIG, 20,
          WorkerConfig.MAX_BATCH_ELEMENTS_CONFIG, 2048,
          WorkerConfig.HTTP_PORT_CONFIG, 0));
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      try (Worker worker = Worker.start(config);
          PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client,
              Topics.DEFAULT_PREDICTIONS, factory, r -> {
                answers.put(r.getId(), r);
                long index = factory.index(r.getId());
                if (index >= REQUESTS) {
                  return; // the other models' requests, keyed apart
                }
                answeredPerKey.computeIfAbsent(factory.key(index), k -> new ArrayList<>()).add(index);
              });
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS,
              factory)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
        generator.run(0, REQUESTS, 0);
        await().atMost(Duration.ofMinutes(3)).until(() -> tracker.answered() >= REQUESTS);

        assertThat(tracker.missing(REQUESTS)).isZero();
        assertThat(tracker.duplicates()).isZero();
        assertThat(tracker.statuses()).containsExactly(Map.entry(Status.OK, (long) REQUESTS));
        assertThat(tracker.meanBatchSize()).as("requests were batched").isGreaterThan(1.5);

        // Every element type (raw and typed) and a ZipMap classifier through the same worker and broker.
        for (int i = 0; i < OTHER_REQUESTS; i++) {
          generator.producer().send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, "other-" + i, otherRequest(
              factory.id(REQUESTS + i), i)));
        }
        generator.producer().flush();
        await().atMost(Duration.ofMinutes(1)).until(() -> tracker.answered() >= REQUESTS + OTHER_REQUESTS);
      }
    }
    answeredPerKey.forEach((key, indices) -> assertThat(indices).as("answers of " + key).isSorted());
    assertEveryAnswerEqualsOnnxRuntimeAlone(models, factory, answers);
    assertOtherModelsAnswerAsTheEngineDoes(models, factory, answers);
  }

  private static final int OTHER_REQUESTS = 30;

  private static InferenceRequest otherRequest(String id, int i) {
    return switch (i % 3) {
      case 0 -> ShapeModelRequests.rawTypes(id, i);
      case 1 -> ShapeModelRequests.typedTypes(id, i);
      default -> ShapeModelRequests.zipMap(id, i);
    };
  }

  private static void assertOtherModelsAnswerAsTheEngineDoes(Path models, RequestFactory factory,
      Map<String, InferenceResponse> answers) {
    ModelRepository repository = new ModelRepository(models, 1 << 30);
    try (OnnxEngine direct = new OnnxEngine(EngineOptions.cpu())) {
      for (String name : List.of(ShapeModels.TYPES, ShapeModels.ZIPMAP)) {
        direct.load(repository.load(new ModelVersion(name, ShapeModels.VERSION)));
      }
      for (int i = 0; i < OTHER_REQUESTS; i++) {
        InferenceRequest request = otherRequest(factory.id(REQUESTS + i), i);
        InferenceResponse answer = answers.get(request.getId());
        assertThat(answer.getStatus()).as(answer.getError()).isEqualTo(Status.OK);
        List<Tensor> want = direct.infer(new ModelVersion(request.getModel(), ShapeModels.VERSION), List.of(request))
            .outcomes().get(0).outputs();
        assertThat(answer.getOutputs()).as("outputs of %s (%s)", request.getId(), request.getModel())
            .hasSameSizeAs(want);
        for (int o = 0; o < want.size(); o++) {
          Tensor got = answer.getOutputs().get(o);
          assertThat(got.getName()).isEqualTo(want.get(o).getName());
          assertThat(got.getDatatype()).isEqualTo(want.get(o).getDatatype());
          assertThat(got.getShape()).isEqualTo(want.get(o).getShape());
          if (got.getDatatype() == Datatype.FP32) { // batched float arithmetic may round differently
            assertThat(floats(got.getRaw().duplicate())).as(got.getName())
                .containsExactly(floats(want.get(o).getRaw().duplicate()), within(1e-6f));
          } else {
            assertThat(got.getRaw()).as(got.getName()).isEqualTo(want.get(o).getRaw());
          }
        }
      }
    }
  }

  private static void assertEveryAnswerEqualsOnnxRuntimeAlone(Path models, RequestFactory factory,
      Map<String, InferenceResponse> answers) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession alone = env.createSession(Files.readAllBytes(models.resolve("minilm/1/model.onnx")), options)) {
      for (int i = 0; i < REQUESTS; i++) {
        long[] ids = factory.tokenIds(i);
        InferenceResponse answer = answers.get(factory.id(i));
        assertThat(answer.getOutputs().get(0).getShape()).containsExactly(1L, (long) ids.length, 384L);
        float[] got = floats(answer.getOutputs().get(0).getRaw().duplicate());
        float[] want = runAlone(env, alone, ids);
        double maxDiff = 0;
        for (int j = 0; j < want.length; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(want[j] - got[j]));
        }
        assertThat(maxDiff).as("request %d (%d tokens, batch of %d)", i, ids.length,
            answer.getTimings().getBatchSize()).isLessThan(1e-4);
      }
    }
  }

  private static float[] runAlone(OrtEnvironment env, OrtSession session, long[] ids) throws Exception {
    long[] shape = {1, ids.length};
    long[] mask = new long[ids.length];
    Arrays.fill(mask, 1);
    try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
        OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[ids.length]), shape);
        OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
      FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
      float[] values = new float[out.remaining()];
      out.get(values);
      return values;
    }
  }

  private static float[] floats(java.nio.ByteBuffer raw) {
    FloatBuffer fb = raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }
}

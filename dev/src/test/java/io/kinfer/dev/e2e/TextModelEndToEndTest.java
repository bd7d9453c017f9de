package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.TextRequests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * Strings in, embeddings out over a real broker: all-MiniLM-L6-v2 imported as a text model, texts
 * of varied lengths and scripts sent in both OIP forms of BYTES, and every embedding equals the
 * tokenizer plus ONNX Runtime run on that text alone, mean-pooled and L2-normalised (cosine >= 0.9999);
 * an empty text and invalid UTF-8 are answered ERROR on their own.
 */
@Tag("integration")
class TextModelEndToEndTest {
  private static final String MODEL = "minilm-text";
  private static final List<String> SEEDS = List.of("hello", "Kafka carries the request; the worker answers it.",
      "Ça coûte 12 € à Zürich — naïve façade, Ελληνικά, русский текст", "I love pizza 🍕🔥 and 日本語のテキスト 😀",
      "The quick brown fox jumps over the lazy dog while the committee debates the budget. ".repeat(40));
  private static final int TEXTS = 60;

  @TempDir Path dir;

  /** The seeds, then prefixes of them of growing length (cut between code points, never inside an emoji). */
  static String text(int i) {
    if (i < SEEDS.size()) {
      return SEEDS.get(i);
    }
    String seed = SEEDS.get(i % SEEDS.size());
    return seed.substring(0, seed.offsetByCodePoints(0, Math.min(seed.codePointCount(0, seed.length()), 5 + 7 * i)))
        + " #" + i;
  }

  @Test
  void shouldAnswerStringsWithTheEmbeddingsOfEachTextAlone() throws Exception {
    Path models = dir.resolve("models");
    PackagedModels.importMiniLmText(models, MODEL, "1", 16);
    RequestFactory factory = new RequestFactory("text", 1);
    Map<String, InferenceResponse> answers = new ConcurrentHashMap<>();
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
          WorkerConfig.WORKER_ID_CONFIG, "text-worker",
          WorkerConfig.MAX_BATCH_SIZE_CONFIG, 16,
          WorkerConfig.MAX_WAIT_MS_CONFIG, 20,
          WorkerConfig.HTTP_PORT_CONFIG, 0));
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      try (Worker worker = Worker.start(config);
          PredictionTracker tracker = new PredictionTracker(kafka.bootstrapServers(), client,
              Topics.DEFAULT_PREDICTIONS, factory, r -> answers.put(r.getId(), r));
          LoadGenerator generator = new LoadGenerator(kafka.bootstrapServers(), client, Topics.DEFAULT_REQUESTS,
              factory)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
        for (int i = 0; i < TEXTS + 2; i++) {
          InferenceRequest request = i == TEXTS ? TextRequests.typed(factory.id(i), MODEL, "")
              : i == TEXTS + 1 ? TextRequests.raw(factory.id(i), MODEL, new byte[] {'a', (byte) 0xC3, (byte) 0x28})
              : i % 2 == 0 ? TextRequests.typed(factory.id(i), MODEL, text(i))
              : TextRequests.raw(factory.id(i), MODEL, text(i));
          generator.producer().send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, "key-" + (i % 7), request));
        }
        generator.producer().flush();
        await().atMost(Duration.ofMinutes(2)).until(() -> tracker.answered() >= TEXTS + 2);
        assertThat(tracker.statuses()).containsEntry(Status.OK, (long) TEXTS);
        assertThat(tracker.meanBatchSize()).as("texts were batched").isGreaterThan(1.5);
      }
    }
    assertThat(answers.get(factory.id(TEXTS)).getError()).contains("is empty");
    assertThat(answers.get(factory.id(TEXTS + 1)).getError()).contains("not valid UTF-8");

    try (TextReference alone = new TextReference(models.resolve(MODEL + "/1"), PackagedModels.MINILM_MAX_LENGTH)) {
      List<Integer> batchSizes = new ArrayList<>();
      for (int i = 0; i < TEXTS; i++) {
        InferenceResponse answer = answers.get(factory.id(i));
        assertThat(answer.getStatus()).as(answer.getError()).isEqualTo(Status.OK);
        assertThat(answer.getOutputs().get(0).getName()).isEqualTo("embedding");
        assertThat(answer.getOutputs().get(0).getDatatype()).isEqualTo(Datatype.FP32);
        assertThat(answer.getOutputs().get(0).getShape()).containsExactly(1L, 384L);
        float[] got = TextReference.floats(answer.getOutputs().get(0).getRaw());
        float[] want = alone.embed(text(i));
        assertThat(ShadowComparator.cosine(got, want)).as("text %d (batch of %d)", i, answer.getTimings().getBatchSize())
            .isGreaterThanOrEqualTo(0.9999);
        batchSizes.add(answer.getTimings().getBatchSize());
      }
      System.out.println("TEXT-E2E batch sizes " + batchSizes);
    }
  }
}

package io.kinfer.dev.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.kinfer.client.control.TopicReader;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.HeaderNames;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelRepository;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input on a real broker: kept, explained, and never blocking good requests. */
@Tag("integration")
class BadInputEndToEndTest {
  @TempDir Path dir;

  private Worker start(TestKafka kafka, EmbeddedSchemaRegistry registry, Path models, String app) throws Exception {
    Worker worker = Worker.start(new WorkerConfig(Map.of(
        WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
        WorkerConfig.MODEL_REPOSITORY_CONFIG, models.toString(),
        WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state").toString(),
        WorkerConfig.APPLICATION_ID_CONFIG, app,
        WorkerConfig.WORKER_ID_CONFIG, app,
        WorkerConfig.HTTP_PORT_CONFIG, 0,
        WorkerConfig.MAX_BATCH_SIZE_CONFIG, 64,
        WorkerConfig.MAX_WAIT_MS_CONFIG, 50,
        WorkerConfig.ENGINE_RETRY_BACKOFF_MS_CONFIG, "50,100")));
    await().atMost(Duration.ofSeconds(60)).until(() -> worker.state() == KafkaStreams.State.RUNNING);
    return worker;
  }

  private static InferenceRequest withInput(InferenceRequest base, Tensor input) {
    return InferenceRequest.newBuilder(base).setInputs(List.of(input)).build();
  }

  @Test
  void shouldKeepEveryBadRecordAndAnswerEveryGoodOne() throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 1, (short) 1))).all().get();
      }
      RestSchemaRegistryClient client = new RestSchemaRegistryClient(registry.url());
      AvroWireSerializer<InferenceRequest> serializer =
          new AvroWireSerializer<>(client, InferenceRequest.getClassSchema(), false);
      RequestFactory factory = new RequestFactory("bad", 4);
      byte[] good = serializer.serialize(Topics.DEFAULT_REQUESTS, factory.request(0));
      Tensor valid = factory.request(0).getInputs().get(0);
      float[] nan = factory.features(1);
      nan[5] = Float.NaN;
      ByteBuffer nanRaw = ByteBuffer.allocate(nan.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      nanRaw.asFloatBuffer().put(nan);

      Map<String, byte[]> undecodable = new HashMap<>();
      byte[] badMagic = good.clone();
      badMagic[0] = 1;
      undecodable.put("bad-magic", badMagic);
      byte[] unknownId = good.clone();
      ByteBuffer.wrap(unknownId).putInt(1, 999_999);
      undecodable.put("unknown-schema-id", unknownId);
      undecodable.put("truncated", Arrays.copyOf(good, good.length / 2));
      undecodable.put("huge-length", hugeLength(good));

      Map<String, InferenceRequest> invalid = new HashMap<>();
      invalid.put("wrong-shape", withInput(factory.request(2), Tensor.newBuilder(valid).setShape(List.of(1L, 16L)).build()));
      invalid.put("wrong-datatype", withInput(factory.request(3), Tensor.newBuilder(valid).setDatatype(Datatype.INT32).build()));
      invalid.put("nan", withInput(factory.request(4), Tensor.newBuilder(valid).setRaw(nanRaw).build()));
      invalid.put("oversized", withInput(factory.request(5), Tensor.newBuilder(valid).setShape(List.of(1L, 2_000_000_000L)).build()));
      InferenceRequest unknownModel = factory.request(6);
      unknownModel.setModel("nope");
      invalid.put("unknown-model", unknownModel);

      try (Worker worker = start(kafka, registry, models, "bad-input");
          KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
              kafka.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
        int goodCount = 0;
        for (var e : undecodable.entrySet()) {
          producer.send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, e.getKey().getBytes(), e.getValue())).get();
          producer.send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, ("good-" + goodCount).getBytes(),
              serializer.serialize(Topics.DEFAULT_REQUESTS, factory.request(100 + goodCount++)))).get();
        }
        Map<String, byte[]> sent = new HashMap<>();
        for (var e : invalid.entrySet()) {
          sent.put(e.getKey(), serializer.serialize(Topics.DEFAULT_REQUESTS, e.getValue()));
          producer.send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, e.getKey().getBytes(), sent.get(e.getKey()))).get();
          producer.send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, ("good-" + goodCount).getBytes(),
              serializer.serialize(Topics.DEFAULT_REQUESTS, factory.request(100 + goodCount++)))).get();
        }
        int expectedAnswers = goodCount + invalid.size();
        Map<String, InferenceResponse> answers = new HashMap<>();
        AvroWireDeserializer<InferenceResponse> responses =
            new AvroWireDeserializer<>(client, InferenceResponse.getClassSchema());
        await().atMost(Duration.ofSeconds(60)).until(() -> {
          answers.clear();
          TopicReader.read(kafka.bootstrapServers(), Topics.DEFAULT_PREDICTIONS, new StringDeserializer(),
              new ByteArrayDeserializer(), 0, r -> answers.put(r.key(), responses.deserialize(Topics.DEFAULT_PREDICTIONS, r.value())));
          return answers.size() >= expectedAnswers;
        });
        assertThat(answers).hasSize(expectedAnswers);
        for (int i = 0; i < goodCount; i++) {
          assertThat(answers.get("good-" + i).getStatus()).isEqualTo(Status.OK);
        }
        assertThat(answers.get("wrong-shape").getError()).contains("expects one row of shape [1, 32]");
        assertThat(answers.get("wrong-datatype").getError()).contains("must be FP32, got INT32");
        assertThat(answers.get("nan").getError()).contains("NaN or Infinity at element 5");
        assertThat(answers.get("oversized").getError()).contains("over max.tensor.elements");
        assertThat(answers.get("unknown-model").getError()).contains("Unknown model 'nope'");
        invalid.keySet().forEach(k -> assertThat(answers.get(k).getStatus()).as(k).isEqualTo(Status.ERROR));

        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
        TopicReader.read(kafka.bootstrapServers(), Topics.DEFAULT_DEAD_LETTERS, new ByteArrayDeserializer(),
            new ByteArrayDeserializer(), 0, dead::add);
        Map<String, ConsumerRecord<byte[], byte[]>> byKey = new HashMap<>();
        dead.forEach(r -> byKey.put(new String(r.key(), StandardCharsets.UTF_8), r));
        assertThat(byKey.keySet()).as("one dead letter per bad record")
            .containsExactlyInAnyOrderElementsOf(concat(undecodable.keySet(), invalid.keySet()));
        undecodable.forEach((key, bytes) -> {
          assertThat(byKey.get(key).value()).as(key + " keeps its original bytes").isEqualTo(bytes);
          assertThat(header(byKey.get(key), HeaderNames.ERROR_STAGE)).isEqualTo("decode");
          assertThat(header(byKey.get(key), HeaderNames.SOURCE_TOPIC)).isEqualTo(Topics.DEFAULT_REQUESTS);
        });
        AvroWireDeserializer<InferenceRequest> requests = new AvroWireDeserializer<>(client, InferenceRequest.getClassSchema());
        invalid.forEach((key, request) -> {
          assertThat(requests.deserialize(Topics.DEFAULT_REQUESTS, byKey.get(key).value())).as(key).isEqualTo(request);
          assertThat(byKey.get(key).value()).as(key + " keeps the bytes it was sent as").isEqualTo(sent.get(key));
          assertThat(header(byKey.get(key), HeaderNames.ERROR_STAGE)).isIn("route", "infer");
          assertThat(Long.parseLong(header(byKey.get(key), HeaderNames.SOURCE_OFFSET))).isNotNegative();
        });
        assertThat(worker.metrics().counter("kinfer.dead.letters.decode").getCount()).isEqualTo(undecodable.size());
        assertThat(worker.metrics().counter("kinfer.dead.letters.infer").getCount()).isEqualTo(invalid.size() - 1);
        assertThat(worker.metrics().counter("kinfer.dead.letters.route").getCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void shouldReportUnhealthyWhileNoVersionCanServeAndRecover() throws Exception {
    Path models = dir.resolve("models");
    SampleModels.writeAll(models);
    try (TestKafka kafka = TestKafka.start();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(Topics.DEFAULT_REQUESTS, 1, (short) 1))).all().get();
      }
      try (Worker worker = start(kafka, registry, models, "engine-down")) {
        assertThat(EndToEndTest.http(worker, "/health").statusCode()).isEqualTo(200);
        for (ModelVersion v : worker.engine().loaded()) {
          worker.engine().unload(v);
        }
        assertThat(EndToEndTest.http(worker, "/health").statusCode()).isEqualTo(503);
        assertThat(EndToEndTest.http(worker, "/health").body()).contains("No model version is loaded");
        assertThat(EndToEndTest.http(worker, "/ready").statusCode()).isEqualTo(503);
        worker.engine().load(new ModelRepository(models, 1 << 30).load(new ModelVersion("mlp", "1")));
        assertThat(EndToEndTest.http(worker, "/health").statusCode()).isEqualTo(200);
        assertThat(worker.state()).isEqualTo(KafkaStreams.State.RUNNING);
      }
    }
  }

  private static List<String> concat(java.util.Set<String> a, java.util.Set<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  /** A valid header and request id, then an Avro string length of 2^31 - 1. */
  private static byte[] hugeLength(byte[] good) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(good, 0, 5);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    encoder.writeString("id");
    encoder.writeLong(Integer.MAX_VALUE);
    encoder.flush();
    return out.toByteArray();
  }
}

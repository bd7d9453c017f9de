package io.kinfer.client.replay;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.Timings;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.models.OnnxGraphWriter;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Models and traffic whose differences are known by construction. {@code lin} v1 outputs the first
 * ten features; v2 is v1 with classes 0 and 1 swapped. Request i in the "differing" subset
 * (i % 7 == 3) has x0 = 1 and x1 = 0, so v1 says class 0 and v2 class 1 (|diff| = 1); every other
 * request has x0 = x1 = 0 and a single 1 at x(2 + i % 8), so both versions answer exactly alike.
 */
final class ReplayFixture {
  static final String MODEL = "lin";
  static final int FEATURES = 32;
  static final int CLASSES = 10;
  /**
   * A day ago, on the hour: in the past as replayed traffic is, but inside the broker's default
   * 7-day retention. A fixed date became older than that and the broker deleted the records while
   * the tests wrote them (seen in CI as OutOfOrderSequenceException and empty replays).
   */
  static final long T0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.HOURS)
      .minus(java.time.Duration.ofDays(1)).toEpochMilli();
  static final long STEP_MS = 10;

  private ReplayFixture() {}

  static boolean differs(int i) {
    return i % 7 == 3;
  }

  static String id(int i) {
    return "req-" + i;
  }

  static Set<String> differing(int fromInclusive, int toExclusive, java.util.function.IntPredicate also) {
    Set<String> out = new TreeSet<>();
    for (int i = fromInclusive; i < toExclusive; i++) {
      if (differs(i) && also.test(i)) {
        out.add(id(i));
      }
    }
    return out;
  }

  static void writeModels(Path root) throws Exception {
    writeLinear(root, "1", false);
    writeLinear(root, "2", true);
  }

  private static void writeLinear(Path root, String version, boolean swap01) throws Exception {
    float[] w = new float[FEATURES * CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      int feature = swap01 && c < 2 ? 1 - c : c;
      w[feature * CLASSES + c] = 1;
    }
    OnnxGraphWriter graph = new OnnxGraphWriter("lin_v" + version).input(SampleModels.INPUT, FEATURES)
        .initializer("W", new long[] {FEATURES, CLASSES}, w);
    graph.node("MatMul", List.of(SampleModels.INPUT, "W"), SampleModels.OUTPUT, null, null);
    graph.output(SampleModels.OUTPUT, CLASSES);
    SampleModels.write(root, MODEL, version, graph.toByteArray(),
        List.of(TensorSpec.of(SampleModels.INPUT, "FP32", FEATURES)),
        List.of(TensorSpec.of(SampleModels.OUTPUT, "FP32", CLASSES)),
        "test: identity on the first ten features" + (swap01 ? ", classes 0 and 1 swapped" : ""));
  }

  static float[] features(int i) {
    float[] x = new float[FEATURES];
    if (differs(i)) {
      x[0] = 1;
    } else {
      x[2 + i % 8] = 1;
    }
    return x;
  }

  /** What version {@code v} answers to request i (the model is linear: computed exactly here). */
  static float[] output(int i, String v) {
    float[] x = features(i);
    float[] y = new float[CLASSES];
    System.arraycopy(x, 0, y, 0, CLASSES);
    if (v.equals("2")) {
      y[0] = x[1];
      y[1] = x[0];
    }
    return y;
  }

  static Tensor tensor(String name, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return Tensor.newBuilder().setName(name).setDatatype(Datatype.FP32)
        .setShape(List.of(1L, (long) values.length)).setRaw(raw).build();
  }

  /** Requests 0..n-1 at T0 + i * STEP_MS, keyed so they spread over every partition. */
  static void produceRequests(Map<String, Object> client, SchemaRegistry registry, String topic, int n) {
    try (KafkaProducer<String, InferenceRequest> producer = new KafkaProducer<>(client, new StringSerializer(),
        new AvroWireSerializer<>(registry, InferenceRequest.getClassSchema(), false))) {
      for (int i = 0; i < n; i++) {
        InferenceRequest request = InferenceRequest.newBuilder().setId(id(i)).setModel(MODEL)
            .setInputs(List.of(tensor(SampleModels.INPUT, features(i)))).build();
        producer.send(new ProducerRecord<>(topic, null, T0 + i * STEP_MS, "key-" + i, request));
      }
    }
  }

  /** What a worker would have recorded: an A/B split, even requests answered by v1, odd by v2. */
  static String recordedVersion(int i) {
    return i % 2 == 0 ? "1" : "2";
  }

  static void producePredictions(Map<String, Object> client, SchemaRegistry registry, String topic, int n) {
    try (KafkaProducer<String, InferenceResponse> producer = new KafkaProducer<>(client, new StringSerializer(),
        new AvroWireSerializer<>(registry, InferenceResponse.getClassSchema(), false))) {
      for (int i = 0; i < n; i++) {
        String v = recordedVersion(i);
        InferenceResponse response = InferenceResponse.newBuilder().setId(id(i)).setModel(MODEL).setVersion(v)
            .setVariant("VARIANT").setStatus(Status.OK).setOutputs(List.of(tensor(SampleModels.OUTPUT, output(i, v))))
            .setTimings(Timings.newBuilder().setRequestTimestamp(Instant.ofEpochMilli(T0 + i * STEP_MS))
                .setQueueWaitMicros(0).setInferenceMicros(0).setBatchSize(1).build())
            .build();
        // Answered 25 ms after the request, as a worker would be.
        producer.send(new ProducerRecord<>(topic, null, T0 + i * STEP_MS + 25, "key-" + i, response));
      }
    }
  }

  /** What a worker shadowing v2 behind v1 would have written to the comparisons topic. */
  static void produceComparisons(Map<String, Object> client, SchemaRegistry registry, String topic, int n) {
    try (KafkaProducer<String, ShadowComparison> producer = new KafkaProducer<>(client, new StringSerializer(),
        new AvroWireSerializer<>(registry, ShadowComparison.getClassSchema(), false))) {
      for (int i = 0; i < n; i++) {
        ShadowComparison c = ShadowComparison.newBuilder().setId(id(i)).setModel(MODEL).setPrimaryVersion("1")
            .setShadowVersion("2").setMaxAbsDiff(differs(i) ? 1.0 : 0.0).setTop1Agree(!differs(i))
            .setPrimaryInferenceMicros(100).setShadowInferenceMicros(100).build();
        producer.send(new ProducerRecord<>(topic, null, T0 + i * STEP_MS + 30, "key-" + i, c));
      }
    }
  }

  /** Ground truth: v2's answer is the right one everywhere. */
  static void produceLabels(Map<String, Object> client, String topic, int n) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(client, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (int i = 0; i < n; i++) {
        producer.send(new ProducerRecord<>(topic, id(i).getBytes(StandardCharsets.UTF_8),
            Integer.toString(ShadowComparator.argmax(output(i, "2"))).getBytes(StandardCharsets.UTF_8)));
      }
    }
  }
}

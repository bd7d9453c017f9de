package io.kinfer.dev.bench;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Timings;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.InferenceEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The per-request baseline: what a hand-written consumer loop does. Poll, decode, run the model on
 * one request, produce the answer, auto-commit (at least once, no batching, no transactions).
 * Measured on the same backlog and machine as the worker.
 */
final class NaiveLoop {
  private NaiveLoop() {}

  /** Answers {@code count} requests from the beginning of {@code requestsTopic}; returns requests/s. */
  static double run(String bootstrap, SchemaRegistry registry, InferenceEngine engine, ModelVersion version,
      String requestsTopic, String outputTopic, long count) {
    return run(bootstrap, registry, engine, version, requestsTopic, outputTopic, count, 0).requestsPerSecond();
  }

  /** Requests/s, and this process's CPU time per 1,000 requests, over the measured part. */
  record Rate(double requestsPerSecond, double cpuMsPerThousand) {}

  /**
   * As above, with the clock started only after the first {@code warm} requests (a cold JVM). The
   * CPU time is the whole process's: meaningful only when the loop has a JVM of its own.
   */
  static Rate run(String bootstrap, SchemaRegistry registry, InferenceEngine engine, ModelVersion version,
      String requestsTopic, String outputTopic, long count, long warm) {
    try (KafkaConsumer<String, InferenceRequest> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "naive-loop-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(), new AvroWireDeserializer<>(registry, InferenceRequest.getClassSchema()));
        KafkaProducer<String, InferenceResponse> producer = new KafkaProducer<>(Map.of(
            "bootstrap.servers", bootstrap, "acks", "all", "linger.ms", 5),
            new StringSerializer(), new AvroWireSerializer<>(registry, InferenceResponse.getClassSchema(), false))) {
      consumer.subscribe(List.of(requestsTopic));
      long done = 0;
      long start = 0;
      Duration cpu0 = Duration.ZERO;
      while (done < count) {
        for (ConsumerRecord<String, InferenceRequest> record : consumer.poll(Duration.ofMillis(200))) {
          if (start == 0 && done >= warm) {
            start = System.nanoTime();
            cpu0 = ChildJvm.cpu(ProcessHandle.current());
          }
          long t0 = System.nanoTime();
          BatchResult result = engine.infer(version, List.of(record.value()));
          long micros = (System.nanoTime() - t0) / 1000;
          InferenceResponse response = InferenceResponse.newBuilder().setId(record.value().getId())
              .setModel(version.model()).setVersion(version.version()).setStatus(Status.OK)
              .setOutputs(result.outcomes().get(0).outputs())
              .setTimings(new Timings(Instant.ofEpochMilli(record.timestamp()), 0L, micros, 1)).build();
          producer.send(new ProducerRecord<>(outputTopic, record.key(), response));
          done++;
        }
      }
      producer.flush();
      double rps = (done - warm) / ((System.nanoTime() - start) / 1e9);
      return new Rate(rps, 1000.0 * ChildJvm.cpu(ProcessHandle.current()).minus(cpu0).toMillis() / (done - warm));
    }
  }
}

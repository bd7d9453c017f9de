package io.kinfer.client.control;

import io.kinfer.client.replay.Report;
import io.kinfer.client.replay.TopicRange;
import io.kinfer.client.security.ClientSettings;
import io.kinfer.evaluation.CanaryDecision;
import io.kinfer.evaluation.ComparisonTally;
import io.kinfer.evaluation.Gates;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.topology.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ops ctl canary --auto}: gives the candidate its canary share and a full shadow (so every
 * request the primary answers is also compared), watches the live comparisons until enough have
 * arrived, then promotes the candidate if every gate passes and otherwise re-issues the plan that
 * was in force before. Each decision is published on the status topic.
 */
public final class AutoCanary {
  /** Key and worker name of decision records on the status topic. */
  public static final String STATUS_KEY_PREFIX = "ops-auto-canary/";

  /**
   * @param minSamples comparisons needed before deciding
   * @param timeout without enough comparisons by then, the canary is rolled back (nothing proven)
   */
  public record Settings(double percent, Gates gates, long minSamples, Duration timeout, double tolerance) {}

  /** What happened and why; {@code report} is in the replay report format. */
  public record Decision(boolean promoted, String reason, ControlCommand plan, Report report) {}

  private AutoCanary() {}

  public static Decision run(ControlClient control, Map<String, Object> kafka, SchemaRegistry registry,
      Topics topics, String model, String version, Settings settings, PrintStream out) throws Exception {
    ControlCommand before = control.currentPlan(model).orElseThrow(() -> new IllegalStateException(
        "No plan for model '" + model + "' yet; start with: ops ctl deploy " + model + " VERSION"));
    long startMs = System.currentTimeMillis();
    control.canary(model, version, settings.percent());
    ControlCommand watched = control.shadow(model, version, 1.0);
    out.printf("auto-canary %s:%s: %.1f%% canary + full shadow (generation %d); waiting for %d comparisons"
        + " (at most %s)%n", model, version, settings.percent(), watched.getGeneration(), settings.minSamples(),
        settings.timeout());
    ComparisonTally tally = new ComparisonTally(registry, topics.comparisons(), model, version, settings.tolerance());
    follow(kafka, topics.comparisons(), startMs, tally, settings, out);
    Report report = Report.of("auto-canary", null, tally);
    CanaryDecision decision = CanaryDecision.decide(model + ":" + version, tally.compared(), settings.minSamples(),
        settings.timeout(), report.gate(settings.gates()));
    ControlCommand plan = decision.promote() ? control.promote(model) : control.restore(before);
    String reason = decision.reason();
    record(kafka, registry, topics, model, plan, reason);
    report.with("decision", Map.of("promoted", decision.promote(), "reason", reason, "generation",
        plan.getGeneration()));
    return new Decision(decision.promote(), reason, plan, report);
  }

  private static void follow(Map<String, Object> kafka, String topic, long startMs, ComparisonTally tally,
      Settings settings, PrintStream out) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(ClientSettings.committedReader(kafka),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = TopicRange.partitions(consumer, topic);
      consumer.assign(partitions);
      TopicRange.offsetsAt(consumer, partitions, startMs, consumer.endOffsets(partitions)).forEach(consumer::seek);
      long deadline = startMs + settings.timeout().toMillis();
      long lastPrint = 0;
      while (tally.compared() < settings.minSamples() && System.currentTimeMillis() < deadline) {
        List<ConsumerRecord<byte[], byte[]>> chunk = new ArrayList<>();
        // Comparisons of requests answered before the new plan reached the workers belong to no canary.
        consumer.poll(Duration.ofMillis(500)).forEach(r -> {
          if (r.timestamp() >= startMs) {
            chunk.add(r);
          }
        });
        tally.accept(chunk);
        if (System.currentTimeMillis() - lastPrint > 2_000) {
          lastPrint = System.currentTimeMillis();
          out.printf("  %d / %d comparisons%n", tally.compared(), settings.minSamples());
        }
      }
    }
  }

  private static void record(Map<String, Object> kafka, SchemaRegistry registry, Topics topics, String model,
      ControlCommand plan, String reason) {
    Map<String, Object> config = new HashMap<>(kafka);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, ModelStatus> producer = new KafkaProducer<>(config, new StringSerializer(),
        topics.statusTopic().valueSerializer(registry))) {
      ModelStatus status = ModelStatus.newBuilder().setWorker(STATUS_KEY_PREFIX + model).setAt(Instant.now())
          .setLoaded(List.of()).setAppliedGenerations(Map.of(model, plan.getGeneration()))
          .setEvents(List.of(reason)).build();
      producer.send(new ProducerRecord<>(topics.status(), STATUS_KEY_PREFIX + model, status)).get();
    } catch (Exception e) {
      throw new IllegalStateException("The decision was applied (generation " + plan.getGeneration()
          + ") but could not be recorded on " + topics.status() + ": " + e.getMessage(), e);
    }
  }
}

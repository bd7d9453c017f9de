package io.kinfer.ops.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.TopicReader;
import io.kinfer.evaluation.PairStats;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.HeaderNames;
import io.kinfer.topology.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ops ctl status}: per model, the plan in force, which workers applied it, the split
 * observed in recent predictions (from record headers, no decoding), and shadow agreement.
 */
@Command(name = "status", description = "Plans, workers, observed split and shadow agreement per model.")
final class StatusCommand implements Callable<Integer> {
  @Mixin CtlOptions options;

  @Option(names = "--window", defaultValue = "5000", description = "recent records per partition to summarise (default: ${DEFAULT-VALUE})")
  long window;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> status = collect();
    if (options.json) {
      System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(status));
    } else {
      print(status);
    }
    return 0;
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> collect() throws Exception {
    Topics topics = options.topics();
    RestSchemaRegistryClient registry = options.registry();
    Map<String, Object> models = new TreeMap<>();
    try (ControlClient client = options.client()) {
      client.currentPlans().forEach((model, plan) -> model(models, model).put("plan", CtlCommand.describe(plan)));
    }
    Map<String, ModelStatus> workers = new TreeMap<>();
    List<String> events = new ArrayList<>();
    AvroWireDeserializer<ModelStatus> statusDecoder = topics.statusTopic().valueDeserializer(registry);
    TopicReader.read(options.kafka(), topics.status(), new StringDeserializer(), new ByteArrayDeserializer(), 0, r -> {
      ModelStatus s = statusDecoder.deserialize(topics.status(), r.value());
      workers.put(s.getWorker(), s);
      s.getEvents().forEach(e -> events.add(s.getAt() + " " + s.getWorker() + ": " + e));
    });
    workers.forEach((worker, s) -> s.getAppliedGenerations().forEach((model, generation) ->
        ((Map<String, Object>) model(models, model).computeIfAbsent("workers", k -> new TreeMap<>()))
            .put(worker, Map.of("generation", generation, "loaded", s.getLoaded().stream()
                .filter(l -> l.getModel().equals(model)).map(l -> l.getVersion()).toList()))));
    Map<String, Map<String, Long>> split = new TreeMap<>();
    TopicReader.read(options.kafka(), topics.predictions(), new ByteArrayDeserializer(), new ByteArrayDeserializer(),
        window, r -> split.computeIfAbsent(header(r.headers().lastHeader(HeaderNames.MODEL)), k -> new TreeMap<>())
            .merge(header(r.headers().lastHeader(HeaderNames.VERSION)), 1L, Long::sum));
    split.forEach((model, counts) -> model(models, model).put("observed_split", shares(counts)));
    Map<String, PairStats> shadows = new TreeMap<>();
    AvroWireDeserializer<ShadowComparison> cmpDecoder = topics.comparisonsTopic().valueDeserializer(registry);
    TopicReader.read(options.kafka(), topics.comparisons(), new ByteArrayDeserializer(), new ByteArrayDeserializer(),
        window, r -> {
          ShadowComparison c = cmpDecoder.deserialize(topics.comparisons(), r.value());
          PairStats pair = shadows.computeIfAbsent(c.getModel() + "\u0000" + c.getShadowVersion(),
              k -> new PairStats(c.getModel().toString(), c.getShadowVersion().toString(), 0));
          if (c.getShadowError() != null) {
            pair.candidateFailed();
          } else {
            pair.record(r.timestamp(), c.getMaxAbsDiff(), c.getTop1Agree(), c.getCosine());
          }
        });
    shadows.forEach((key, pair) -> {
      String[] parts = key.split("\u0000");
      Map<String, Object> summary = new LinkedHashMap<>();
      // What applies to the outputs: top-1 for class scores, cosine for vectors such as embeddings.
      pair.metrics().forEach((name, value) -> {
        if (SHADOW_METRICS.contains(name) && !value.isNaN()) {
          summary.put(name, value);
        }
      });
      ((Map<String, Object>) model(models, parts[0]).computeIfAbsent("shadow", k -> new TreeMap<>()))
          .put(parts[1], summary);
    });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("models", models);
    out.put("recent_events", events.subList(Math.max(0, events.size() - 10), events.size()));
    return out;
  }

  private static final List<String> SHADOW_METRICS = List.of("compared", "top1_agreement", "cosine_mean", "cosine_p1",
      "failed_rate");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> model(Map<String, Object> models, String model) {
    return (Map<String, Object>) models.computeIfAbsent(model, k -> new LinkedHashMap<>());
  }

  private static Map<String, Double> shares(Map<String, Long> counts) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Double> out = new TreeMap<>();
    counts.forEach((v, n) -> out.put(v, (double) n / total));
    return out;
  }

  private static String header(Header h) {
    return h == null ? "?" : new String(h.value(), StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static void print(Map<String, Object> status) {
    Map<String, Object> models = (Map<String, Object>) status.get("models");
    if (models.isEmpty()) {
      System.out.println("No plans, workers or predictions yet.");
    }
    models.forEach((model, raw) -> {
      Map<String, Object> m = (Map<String, Object>) raw;
      System.out.println("model " + model);
      Map<String, Object> plan = (Map<String, Object>) m.get("plan");
      if (plan == null) {
        System.out.println("  plan: none (workers serve their default version)");
      } else {
        System.out.println("  plan generation " + plan.get("generation") + " by " + plan.get("issuer"));
        ((List<Map<String, Object>>) plan.get("routes")).forEach(r -> System.out.printf("    %-8s v%-6s %5.1f%%%n",
            r.get("role"), r.get("version"), ((Double) r.get("weight")) * 100));
      }
      ((Map<String, Object>) m.getOrDefault("workers", Map.of())).forEach((w, info) ->
          System.out.println("  worker " + w + ": " + info));
      Map<String, Double> split = (Map<String, Double>) m.get("observed_split");
      if (split != null) {
        System.out.print("  observed split:");
        split.forEach((v, share) -> System.out.printf("  v%s %.1f%%", v, share * 100));
        System.out.println();
      }
      ((Map<String, Object>) m.getOrDefault("shadow", Map.of())).forEach((v, info) ->
          System.out.println("  shadow v" + v + ": " + info));
    });
    List<String> events = (List<String>) status.get("recent_events");
    if (!events.isEmpty()) {
      System.out.println("recent events:");
      events.forEach(e -> System.out.println("  " + e));
    }
  }
}

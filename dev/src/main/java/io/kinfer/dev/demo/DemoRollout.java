package io.kinfer.dev.demo;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.client.control.ControlClient;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.worker.models.SampleModels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The demo's rollout script: while load runs, v1 serves, then v2 shadows it, then takes a 10%
 * canary, is promoted, and is rolled back; then v1's INT8 quantization shadows v1 and, agreeing,
 * is promoted. Counts which version answered under each plan generation, so the summary shows the
 * split each phase really had, and the shadow agreement of each shadow phase.
 */
final class DemoRollout {
  /** @param shadow the version whose shadow comparisons this phase reports, or null */
  record Phase(String name, Function<ControlClient, ControlCommand> change, String shadow) {}

  static final List<Phase> PHASES = List.of(
      new Phase("primary v1", c -> c.deploy("mlp", "1"), null),
      new Phase("shadow v2", c -> c.shadow("mlp", "2", 1.0), "2"),
      new Phase("canary v2 10%", c -> c.canary("mlp", "2", 10), null),
      new Phase("promote v2", c -> c.promote("mlp"), null),
      new Phase("rollback", c -> c.rollback("mlp"), null),
      // Back to v1 alone (the rollback restored the canary), then its INT8 quantization as the shadow.
      new Phase("v1 + shadow v1-int8", c -> {
        c.deploy("mlp", "1");
        return c.shadow("mlp", SampleModels.MLP_INT8_VERSION, 1.0);
      }, SampleModels.MLP_INT8_VERSION),
      new Phase("promote v1-int8", c -> c.promote("mlp"), null));

  private final ControlClient control;
  private final MetricRegistry workerMetrics;
  private final Map<Long, Map<String, LongAdder>> answeredByGeneration = new ConcurrentHashMap<>();
  private final List<Map<String, Object>> issued = new ArrayList<>();
  private String shadowed;
  private long comparedAtStart;
  private long agreedAtStart;

  DemoRollout(ControlClient control, MetricRegistry workerMetrics) {
    this.control = control;
    this.workerMetrics = workerMetrics;
  }

  /** Called for every answer the demo reads. */
  void answered(InferenceResponse response) {
    answeredByGeneration.computeIfAbsent(response.getPlanGeneration(), g -> new ConcurrentHashMap<>())
        .computeIfAbsent(response.getVersion(), v -> new LongAdder()).increment();
  }

  /** Issues phase {@code index}; returns its plan, printed for the viewer. */
  synchronized ControlCommand start(int index) {
    closeShadowWindow();
    Phase phase = PHASES.get(index);
    ControlCommand command = phase.change().apply(control);
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("phase", phase.name());
    entry.put("generation", command.getGeneration());
    entry.put("routes", command.getRoutes().stream().map(r -> r.getRole() + " v" + r.getVersion() + " "
        + Math.round(r.getWeight() * 100) + "%").toList());
    issued.add(entry);
    shadowed = phase.shadow();
    comparedAtStart = counter("compared");
    agreedAtStart = counter("top1.agree");
    return command;
  }

  private void closeShadowWindow() {
    if (!issued.isEmpty() && shadowed != null) {
      long compared = counter("compared") - comparedAtStart;
      Map<String, Object> last = issued.get(issued.size() - 1);
      last.put("shadow_version", shadowed);
      last.put("shadow_compared", compared);
      last.put("shadow_top1_agreement", compared == 0 ? null : (double) (counter("top1.agree") - agreedAtStart) / compared);
    }
  }

  private long counter(String name) {
    return shadowed == null ? 0
        : workerMetrics.counter(MetricRegistry.name("kinfer.shadow.mlp", shadowed, name)).getCount();
  }

  /** Per phase: its plan, how many answers it produced, and the observed share of each version. */
  synchronized List<Map<String, Object>> summary() {
    closeShadowWindow();
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> phase : issued) {
      Map<String, Object> entry = new LinkedHashMap<>(phase);
      Map<String, LongAdder> counts = answeredByGeneration.getOrDefault((Long) phase.get("generation"), Map.of());
      long total = counts.values().stream().mapToLong(LongAdder::sum).sum();
      Map<String, Double> shares = new TreeMap<>();
      counts.forEach((v, n) -> shares.put(v, total == 0 ? 0 : (double) n.sum() / total));
      entry.put("answered", total);
      entry.put("observed_share", shares);
      out.add(entry);
    }
    return out;
  }

  /** One line for the live view: the share of each version among the answers under {@code generation}. */
  String liveSplit(long generation) {
    Map<String, LongAdder> counts = answeredByGeneration.getOrDefault(generation, Map.of());
    long total = counts.values().stream().mapToLong(LongAdder::sum).sum();
    StringBuilder out = new StringBuilder();
    new TreeMap<>(counts).forEach((v, n) -> out.append(String.format(" v%s %.1f%%", v, 100.0 * n.sum() / Math.max(1, total))));
    long compared = counter("compared") - comparedAtStart;
    if (compared > 0) {
      out.append(String.format("  shadow agreement %.1f%% of %,d", 100.0 * (counter("top1.agree") - agreedAtStart) / compared, compared));
    }
    return out.toString();
  }
}

package io.kinfer.ops.demo;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.ops.ctl.ControlClient;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceResponse;
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
 * canary, is promoted, and is rolled back. Counts which version answered under each plan
 * generation, so the summary shows the split each phase really had.
 */
final class DemoRollout {
  record Phase(String name, Function<ControlClient, ControlCommand> change) {}

  static final List<Phase> PHASES = List.of(
      new Phase("primary v1", c -> c.deploy("mlp", "1")),
      new Phase("shadow v2", c -> c.shadow("mlp", "2", 1.0)),
      new Phase("canary v2 10%", c -> c.canary("mlp", "2", 10)),
      new Phase("promote v2", c -> c.promote("mlp")),
      new Phase("rollback", c -> c.rollback("mlp")));

  private final ControlClient control;
  private final MetricRegistry workerMetrics;
  private final Map<Long, Map<String, LongAdder>> answeredByGeneration = new ConcurrentHashMap<>();
  private final List<Map<String, Object>> issued = new ArrayList<>();
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
    comparedAtStart = counter("compared");
    agreedAtStart = counter("top1.agree");
    return command;
  }

  private void closeShadowWindow() {
    if (!issued.isEmpty()) {
      long compared = counter("compared") - comparedAtStart;
      Map<String, Object> last = issued.get(issued.size() - 1);
      last.put("shadow_compared", compared);
      last.put("shadow_top1_agreement", compared == 0 ? null : (double) (counter("top1.agree") - agreedAtStart) / compared);
    }
  }

  private long counter(String name) {
    return workerMetrics.counter(MetricRegistry.name("kinfer.shadow.mlp.2", name)).getCount();
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

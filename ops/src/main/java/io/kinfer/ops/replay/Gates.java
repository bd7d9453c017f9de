package io.kinfer.ops.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pass/fail conditions on report metrics, e.g. {@code "agreement>=0.99,p99_diff<=1e-3"}. The same
 * gates decide {@code ops replay --gate}, {@code ops compare --gate} and {@code ops ctl canary --auto}.
 */
public final class Gates {
  private static final Pattern GATE = Pattern.compile("\\s*([a-z0-9_]+)\\s*(>=|<=|>|<|==)\\s*([-+0-9.eE]+)\\s*");

  /** One condition. */
  public record Gate(String metric, String op, double threshold) {
    public boolean test(double value) {
      if (Double.isNaN(value)) {
        return false;
      }
      return switch (op) {
        case ">=" -> value >= threshold;
        case "<=" -> value <= threshold;
        case ">" -> value > threshold;
        case "<" -> value < threshold;
        default -> value == threshold;
      };
    }

    @Override
    public String toString() {
      return metric + op + threshold;
    }
  }

  /** One condition checked against one comparison. */
  public record Verdict(String subject, Gate gate, double value, boolean passed) {
    @Override
    public String toString() {
      return String.format("%s %s: %s %s %s (%s)", passed ? "PASS" : "FAIL", subject, gate.metric(),
          Double.isNaN(value) ? "n/a" : String.format("%.6g", value), gate.op() + gate.threshold(),
          passed ? "ok" : "gate failed");
    }
  }

  private final List<Gate> gates;

  private Gates(List<Gate> gates) {
    this.gates = List.copyOf(gates);
  }

  public static Gates none() {
    return new Gates(List.of());
  }

  /** Parses a comma-separated list; unknown metric names are refused here, not at the end of a long run. */
  public static Gates parse(String spec) {
    List<Gate> out = new ArrayList<>();
    if (spec == null || spec.isBlank()) {
      return none();
    }
    for (String part : spec.split(",")) {
      Matcher m = GATE.matcher(part);
      if (!m.matches()) {
        throw new IllegalArgumentException("Cannot read gate '" + part.trim() + "': write METRIC OP NUMBER, e.g."
            + " agreement>=0.99 (operators >= <= > < ==)");
      }
      if (!PairStats.METRICS.contains(m.group(1))) {
        throw new IllegalArgumentException("Unknown gate metric '" + m.group(1) + "'; known: " + PairStats.METRICS);
      }
      out.add(new Gate(m.group(1), m.group(2), Double.parseDouble(m.group(3))));
    }
    return new Gates(out);
  }

  public List<Gate> gates() {
    return gates;
  }

  /**
   * Checks every gate against every comparison of a report, records the verdicts in it ({@code gates},
   * {@code gatesPassed}) and returns whether all passed. A report without comparisons fails any gate.
   */
  @SuppressWarnings("unchecked")
  public boolean apply(Map<String, Object> report) {
    List<Map<String, Object>> out = new ArrayList<>();
    boolean passed = true;
    List<Map<String, Object>> comparisons = (List<Map<String, Object>>) report.getOrDefault("comparisons", List.of());
    if (!gates.isEmpty() && comparisons.isEmpty()) {
      passed = false;
      out.add(Map.of("subject", "(none)", "gate", gates.toString(), "value", Double.NaN, "passed", false));
    }
    for (Map<String, Object> c : comparisons) {
      String subject = c.get("candidate") + " vs " + c.get("baseline");
      for (Verdict v : check(subject, (Map<String, Double>) c.get("metrics"))) {
        passed &= v.passed();
        out.add(Map.of("subject", subject, "gate", v.gate().toString(), "value", v.value(), "passed", v.passed()));
      }
    }
    report.put("gates", out);
    report.put("gatesPassed", passed);
    return passed;
  }

  /** Every gate against the metrics of one comparison (named {@code subject}). */
  public List<Verdict> check(String subject, Map<String, Double> metrics) {
    List<Verdict> out = new ArrayList<>();
    for (Gate g : gates) {
      double value = metrics.getOrDefault(g.metric(), Double.NaN);
      out.add(new Verdict(subject, g, value, g.test(value)));
    }
    return out;
  }
}

package io.kinfer.evaluation;

import com.fasterxml.jackson.annotation.JsonValue;
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
    @JsonValue
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

  /** Every verdict on a set of comparisons, and whether all passed. */
  public record Report(List<Verdict> verdicts, boolean passed) {}

  /**
   * Checks every gate against every comparison. With gates but no comparison nothing is proven, so
   * that fails too (each gate fails on "(none)").
   */
  public Report check(List<PairSummary> comparisons) {
    List<Verdict> out = new ArrayList<>();
    if (!gates.isEmpty() && comparisons.isEmpty()) {
      gates.forEach(g -> out.add(new Verdict("(none)", g, Double.NaN, false)));
    }
    for (PairSummary c : comparisons) {
      out.addAll(check(c.subject(), c.metrics()));
    }
    return new Report(out, out.stream().allMatch(Verdict::passed));
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

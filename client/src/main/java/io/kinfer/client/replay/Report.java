package io.kinfer.client.replay;

import com.fasterxml.jackson.annotation.JsonValue;
import io.kinfer.evaluation.ComparisonTally;
import io.kinfer.evaluation.Gates;
import io.kinfer.evaluation.PairSummary;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A replay, compare, auto-canary or demo report: the typed comparisons and gate verdicts the
 * commands decide on, plus named sections of context (source range, counts, versions, ...) that
 * are only written. {@link #document()} is what report.json holds and report.html draws.
 */
public final class Report {
  private final Map<String, Object> document = new LinkedHashMap<>();
  private final List<PairSummary> comparisons;
  private final boolean partial;
  private Gates.Report gates = new Gates.Report(List.of(), true);

  /** @param partialReason null when the run went to its end */
  public Report(String kind, String partialReason, double durationSeconds, List<PairSummary> comparisons) {
    this.comparisons = List.copyOf(comparisons);
    this.partial = partialReason != null;
    document.put("kind", kind);
    document.put("partial", partial);
    document.put("partialReason", partialReason);
    document.put("generatedAt", Instant.now().toString());
    document.put("durationSeconds", durationSeconds);
    document.put("comparisons", this.comparisons);
  }

  /**
   * The live comparisons a tally has summed so far, with its counts.
   *
   * @param partialReason null when the tally read all it was meant to
   */
  public static Report of(String kind, String partialReason, ComparisonTally tally) {
    return new Report(kind, partialReason, tally.durationSeconds(), tally.summaries()).with("counts", tally.counts());
  }

  /** Adds (or replaces) a section of context; sections keep the order they were added in. */
  public Report with(String section, Object value) {
    document.put(section, value);
    return this;
  }

  public List<PairSummary> comparisons() {
    return comparisons;
  }

  /** The comparison against {@code baseline}, or null. */
  public PairSummary comparisonWith(String baseline) {
    return comparisons.stream().filter(c -> c.baseline().equals(baseline)).findFirst().orElse(null);
  }

  public boolean partial() {
    return partial;
  }

  /** Checks the gates against every comparison and records the verdicts in the report. */
  public Gates.Report gate(Gates g) {
    gates = g.check(comparisons);
    document.put("gates", gates.verdicts());
    document.put("gatesPassed", gates.passed());
    return gates;
  }

  public Gates.Report gates() {
    return gates;
  }

  @JsonValue
  public Map<String, Object> document() {
    return Collections.unmodifiableMap(document);
  }
}

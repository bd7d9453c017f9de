package io.kinfer.evaluation;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * One baseline vs candidate comparison, as {@link PairStats} sums it up: the counts, the gate
 * metrics, and the distributions the report draws. Absent parts (no vector outputs, no top-1, no
 * labels) are null, and left out of report.json.
 *
 * @param metrics gate values by the names in {@link PairStats#METRICS}
 */
public record PairSummary(String baseline, String candidate, double tolerance, long compared,
    long agreeWithinTolerance, long top1Compared, long top1Agree, long candidateFailed, long missingBaseline,
    Map<String, Double> metrics, AbsDiff absDiff, @JsonInclude(JsonInclude.Include.NON_NULL) Cosine cosine,
    @JsonInclude(JsonInclude.Include.NON_NULL) Confusion confusion, List<Minute> timeline,
    @JsonInclude(JsonInclude.Include.NON_NULL) Accuracy accuracy) {

  /** What gates and reports call this comparison. */
  public String subject() {
    return candidate + " vs " + baseline;
  }

  /** A histogram bar: {@code bucket} names its range. */
  public record Bucket(String bucket, long count) {}

  /** The largest absolute output difference per request. */
  public record AbsDiff(long exactZero, List<Bucket> histogram) {}

  /** Cosine similarity of vector outputs (what agreement means for embeddings). */
  public record Cosine(long compared, double mean, double p1, double p5, double min, List<Bucket> histogram) {}

  /** Top-1 confusion: rows baseline, columns candidate; with {@code lastIsOther} the last class holds the rest. */
  public record Confusion(String rows, String columns, int classes, boolean lastIsOther, List<List<Long>> matrix) {}

  /** Agreement within one minute of request time ({@code minute} in epoch ms). */
  public record Minute(long minute, long compared, double agreement, double top1Agreement) {}

  /** Paired accuracy against labels, and McNemar's test of the difference. */
  public record Accuracy(long labelled, Rate baseline, Rate candidate, PairedTest test) {}

  /** A proportion with its Wilson 95% interval. */
  public record Rate(long correct, long labelled, double rate, List<Double> ci95) {
    static Rate of(long correct, long n) {
      double[] ci = Proportions.wilson(correct, n);
      return new Rate(correct, n, n == 0 ? Double.NaN : (double) correct / n, List.of(ci[0], ci[1]));
    }
  }

  /** McNemar's test on the requests only one of the two got right. */
  public record PairedTest(String method, long onlyBaselineRight, long onlyCandidateRight, double z, double pValue,
      String verdict) {}
}

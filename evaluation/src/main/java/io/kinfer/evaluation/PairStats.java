package io.kinfer.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Baseline vs candidate over many requests, in bounded memory whatever the count: agreement within
 * a tolerance, top-1 agreement, a sparse top-1 confusion matrix, the distribution of the largest
 * absolute output difference (HdrHistogram), the cosine similarity of vector outputs (what agreement
 * means for embeddings), agreement per minute, and paired accuracy when labels are known.
 */
public final class PairStats {
  /** Metric names usable in gates; see {@link #metrics()}. */
  public static final List<String> METRICS = List.of("compared", "agreement", "top1_agreement", "p50_diff",
      "p90_diff", "p99_diff", "p999_diff", "max_diff", "mean_diff", "failed_rate", "missing_baseline_rate",
      "accuracy_baseline", "accuracy_candidate", "accuracy_delta", "p_value", "cosine_mean", "cosine_p1",
      "cosine_p5", "cosine_min");
  /** Top-1 classes beyond this share one row/column, so the matrix stays small. */
  static final int MAX_CLASSES = 64;
  /** Decade buckets of |diff| for the histogram chart: 0, (0,1e-9], (1e-9,1e-8], ..., > 1. */
  static final int DECADES_FROM = -9;
  static final int DECADES_TO = 0;
  /** Buckets of cosine similarity for the chart, by their lower bounds (the last holds everything below). */
  static final double[] COSINE_FLOORS = {1, 0.99999, 0.9999, 0.999, 0.99, 0.9};

  private final String baseline;
  private final String candidate;
  private final double tolerance;
  private long compared;
  private long withinTolerance;
  private long top1Compared;
  private long top1Agree;
  private long candidateFailed;
  private long missingBaseline;
  private double diffSum;
  private double maxDiff;
  private final NonNegativeQuantiles diffs = new NonNegativeQuantiles();
  private long cosines;
  private double cosineSum;
  private double cosineMin = Double.POSITIVE_INFINITY;
  private final NonNegativeQuantiles cosineDistances = new NonNegativeQuantiles();
  private final long[] cosineBuckets = new long[COSINE_FLOORS.length + 1];
  private final long[] decades = new long[DECADES_TO - DECADES_FROM + 3];
  private final long[][] confusion = new long[MAX_CLASSES + 1][MAX_CLASSES + 1];
  private int classes;
  private final TreeMap<Long, long[]> perMinute = new TreeMap<>();
  private long labelled;
  private long baselineCorrect;
  private long candidateCorrect;
  private long onlyBaselineCorrect;
  private long onlyCandidateCorrect;

  public PairStats(String baseline, String candidate, double tolerance) {
    this.baseline = baseline;
    this.candidate = candidate;
    this.tolerance = tolerance;
  }

  public String baseline() {
    return baseline;
  }

  /**
   * One request both sides answered.
   *
   * @param top1Baseline top-1 class of the baseline, or -1 when unknown
   * @param cosine cosine similarity of the vector outputs, or null when there are none
   * @param label the true class, or null
   * @return whether the two disagree: on top-1 when both have one, else beyond the tolerance
   */
  public boolean record(long timestampMs, double maxAbsDiff, int top1Baseline, int top1Candidate, Double cosine,
      Integer label) {
    Boolean agree = top1Baseline < 0 || top1Candidate < 0 ? null : top1Baseline == top1Candidate;
    boolean disagree = record(timestampMs, maxAbsDiff, agree, cosine);
    if (agree != null) {
      classes = Math.max(classes, Math.max(top1Baseline, top1Candidate) + 1);
      confusion[Math.min(top1Baseline, MAX_CLASSES)][Math.min(top1Candidate, MAX_CLASSES)]++;
    }
    if (label != null && agree != null) {
      labelled++;
      boolean b = top1Baseline == label;
      boolean c = top1Candidate == label;
      baselineCorrect += b ? 1 : 0;
      candidateCorrect += c ? 1 : 0;
      onlyBaselineCorrect += b && !c ? 1 : 0;
      onlyCandidateCorrect += c && !b ? 1 : 0;
    }
    return disagree;
  }

  /** One comparison known only by its summary (the live comparisons topic). */
  public boolean record(long timestampMs, double maxAbsDiff, Boolean sameTop1, Double cosine) {
    compared++;
    if (cosine != null) {
      cosine(cosine);
    }
    boolean within = maxAbsDiff <= tolerance;
    withinTolerance += within ? 1 : 0;
    if (sameTop1 != null) {
      top1Compared++;
      top1Agree += sameTop1 ? 1 : 0;
    }
    diffs.record(maxAbsDiff);
    if (Double.isFinite(maxAbsDiff)) {
      diffSum += maxAbsDiff;
    }
    maxDiff = Math.max(maxDiff, maxAbsDiff);
    decades[decade(maxAbsDiff)]++;
    long[] minute = perMinute.computeIfAbsent(Math.floorDiv(timestampMs, 60_000L), m -> new long[3]);
    minute[0]++;
    minute[1] += within ? 1 : 0;
    minute[2] += Boolean.FALSE.equals(sameTop1) ? 0 : 1;
    // Class outputs differ numerically almost always; what a reader needs listed is a changed decision.
    return sameTop1 != null ? !sameTop1 : !within;
  }

  private void cosine(double cosine) {
    cosines++;
    cosineSum += cosine;
    cosineMin = Math.min(cosineMin, cosine);
    cosineDistances.record(Math.max(0, 1 - cosine));
    int bucket = 0;
    while (bucket < COSINE_FLOORS.length && cosine < COSINE_FLOORS[bucket]) {
      bucket++;
    }
    cosineBuckets[bucket]++;
  }

  /** The q-quantile (0..1) of the cosine similarity: its low tail is the distance's high one. */
  public double cosineQuantile(double q) {
    return 1 - cosineDistances.quantile(1 - q);
  }

  public void candidateFailed() {
    candidateFailed++;
  }

  public void missingBaseline() {
    missingBaseline++;
  }

  public long compared() {
    return compared;
  }

  private static int decade(double diff) {
    if (diff == 0) {
      return 0;
    }
    if (!(diff <= Math.pow(10, DECADES_TO))) {
      return DECADES_TO - DECADES_FROM + 2;
    }
    int exp = (int) Math.ceil(Math.log10(diff));
    return Math.max(DECADES_FROM, exp) - DECADES_FROM + 1;
  }

  /** The q-quantile (0..1) of |diff|, counting exact zeros. */
  public double quantile(double q) {
    return diffs.quantile(q);
  }

  /** Values for gates, by the names in {@link #METRICS}. */
  public Map<String, Double> metrics() {
    Map<String, Double> m = new LinkedHashMap<>();
    long attempted = compared + candidateFailed;
    m.put("compared", (double) compared);
    m.put("agreement", compared == 0 ? Double.NaN : (double) withinTolerance / compared);
    m.put("top1_agreement", top1Compared == 0 ? Double.NaN : (double) top1Agree / top1Compared);
    m.put("p50_diff", quantile(0.50));
    m.put("p90_diff", quantile(0.90));
    m.put("p99_diff", quantile(0.99));
    m.put("p999_diff", quantile(0.999));
    m.put("max_diff", compared == 0 ? Double.NaN : maxDiff);
    m.put("mean_diff", compared == 0 ? Double.NaN : diffSum / compared);
    m.put("failed_rate", attempted == 0 ? Double.NaN : (double) candidateFailed / attempted);
    m.put("missing_baseline_rate", attempted + missingBaseline == 0 ? Double.NaN
        : (double) missingBaseline / (attempted + missingBaseline));
    double accB = labelled == 0 ? Double.NaN : (double) baselineCorrect / labelled;
    double accC = labelled == 0 ? Double.NaN : (double) candidateCorrect / labelled;
    m.put("accuracy_baseline", accB);
    m.put("accuracy_candidate", accC);
    m.put("accuracy_delta", accC - accB);
    m.put("p_value", labelled == 0 ? Double.NaN : Proportions.mcNemar(onlyBaselineCorrect, onlyCandidateCorrect)[1]);
    m.put("cosine_mean", cosines == 0 ? Double.NaN : cosineSum / cosines);
    m.put("cosine_p1", cosineQuantile(0.01));
    m.put("cosine_p5", cosineQuantile(0.05));
    m.put("cosine_min", cosines == 0 ? Double.NaN : cosineMin);
    return m;
  }

  /** Everything report.json holds of this comparison (and report.html draws). */
  public PairSummary summary() {
    List<PairSummary.Bucket> buckets = new ArrayList<>();
    for (int i = 0; i < decades.length; i++) {
      String label = i == 0 ? "0" : i == decades.length - 1 ? ">1e" + DECADES_TO
          : "<=1e" + (DECADES_FROM + i - 1);
      buckets.add(new PairSummary.Bucket(label, decades[i]));
    }
    List<PairSummary.Minute> timeline = new ArrayList<>();
    perMinute.forEach((minute, c) -> timeline.add(new PairSummary.Minute(minute * 60_000L, c[0],
        (double) c[1] / c[0], (double) c[2] / c[0])));
    return new PairSummary(baseline, candidate, tolerance, compared, withinTolerance, top1Compared, top1Agree,
        candidateFailed, missingBaseline, metrics(), new PairSummary.AbsDiff(diffs.zeros(), buckets),
        cosines > 0 ? cosineSummary() : null, top1Compared > 0 && classes > 0 ? confusion() : null, timeline,
        labelled > 0 ? accuracy() : null);
  }

  private PairSummary.Cosine cosineSummary() {
    List<PairSummary.Bucket> buckets = new ArrayList<>();
    for (int i = 0; i < cosineBuckets.length; i++) {
      String label = i == 0 ? "1" : i == COSINE_FLOORS.length ? "<" + COSINE_FLOORS[i - 1] : ">=" + COSINE_FLOORS[i];
      buckets.add(new PairSummary.Bucket(label, cosineBuckets[i]));
    }
    return new PairSummary.Cosine(cosines, cosineSum / cosines, cosineQuantile(0.01), cosineQuantile(0.05), cosineMin,
        buckets);
  }

  private PairSummary.Confusion confusion() {
    int n = Math.min(classes, MAX_CLASSES + 1);
    List<List<Long>> matrix = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Long> row = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        row.add(confusion[i][j]);
      }
      matrix.add(row);
    }
    return new PairSummary.Confusion("baseline top-1", "candidate top-1", n, classes > MAX_CLASSES, matrix);
  }

  private PairSummary.Accuracy accuracy() {
    double[] test = Proportions.mcNemar(onlyBaselineCorrect, onlyCandidateCorrect);
    return new PairSummary.Accuracy(labelled, PairSummary.Rate.of(baselineCorrect, labelled),
        PairSummary.Rate.of(candidateCorrect, labelled),
        new PairSummary.PairedTest("McNemar (paired: both versions on the same requests)", onlyBaselineCorrect,
            onlyCandidateCorrect, test[0], test[1], verdict(test, candidate, baseline)));
  }

  /** {@code test} = {z, p}; z > 0 means {@code b} does better than {@code a}. */
  static String verdict(double[] test, String b, String a) {
    if (Double.isNaN(test[1]) || test[1] >= 0.05) {
      return "no significant difference at the 95% level (p=" + String.format("%.3g", test[1]) + ")";
    }
    return (test[0] > 0 ? b + " is better than " + a : a + " is better than " + b)
        + " (p=" + String.format("%.3g", test[1]) + ")";
  }
}

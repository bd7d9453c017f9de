package io.kinfer.evaluation;

import org.HdrHistogram.DoubleHistogram;

/**
 * Quantiles of non-negative values (output differences, cosine distances) in bounded memory,
 * with exact zeros counted apart: "identical" must not read as the histogram's smallest bucket.
 */
final class NonNegativeQuantiles {
  /** Values are clamped to this range: below 1e-12 is noise for FP32 outputs. */
  static final double FLOOR = 1e-12;
  static final double CEILING = 1e3;

  private final DoubleHistogram values = new DoubleHistogram(1_000_000_000_000_000L, 3);
  private long zeros;

  /** Records {@code v}; NaN and infinities are not quantiles of anything and are left out. */
  void record(double v) {
    if (v == 0) {
      zeros++;
    } else if (Double.isFinite(v)) {
      values.recordValue(Math.min(CEILING, Math.max(v, FLOOR)));
    }
  }

  long zeros() {
    return zeros;
  }

  /** The q-quantile (0..1), or NaN when nothing was recorded. */
  double quantile(double q) {
    long total = zeros + values.getTotalCount();
    if (total == 0) {
      return Double.NaN;
    }
    double rank = q * total;
    if (rank <= zeros) {
      return 0;
    }
    return values.getValueAtPercentile(Math.min(100, 100 * (rank - zeros) / values.getTotalCount()));
  }
}

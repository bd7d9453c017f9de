package io.kinfer.evaluation;

/**
 * Confidence intervals and tests for accuracy-like proportions. Pure functions; the normal
 * distribution via a high-precision erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7).
 */
public final class Proportions {
  /** z for a two-sided 95% interval. */
  public static final double Z95 = 1.959963984540054;

  private Proportions() {}

  /** Wilson score interval: well behaved near 0 and 1 and for small samples, unlike the Wald interval. */
  public static double[] wilson(long successes, long trials) {
    if (trials == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double n = trials;
    double p = successes / n;
    double z2 = Z95 * Z95;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /**
   * Two-proportion z-test with pooled variance, for two independent groups (an A/B split: each
   * request saw one version). Returns {z, two-sided p}.
   */
  public static double[] twoProportionZ(long successA, long trialsA, long successB, long trialsB) {
    if (trialsA == 0 || trialsB == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double pa = (double) successA / trialsA;
    double pb = (double) successB / trialsB;
    double pooled = (double) (successA + successB) / (trialsA + trialsB);
    double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / trialsA + 1.0 / trialsB));
    if (se == 0) {
      return new double[] {0, 1};
    }
    double z = (pb - pa) / se;
    return new double[] {z, twoSidedP(z)};
  }

  /**
   * McNemar's test for paired outcomes (both versions on the same requests), with continuity
   * correction, as a z statistic: {@code onlyA} = A right and B wrong, {@code onlyB} the reverse.
   * Returns {z (positive = B better), two-sided p}.
   */
  public static double[] mcNemar(long onlyA, long onlyB) {
    long discordant = onlyA + onlyB;
    if (discordant == 0) {
      return new double[] {0, 1};
    }
    double z = (Math.abs(onlyB - onlyA) - 1.0) / Math.sqrt(discordant);
    z = Math.max(0, z) * Math.signum(onlyB - onlyA);
    return new double[] {z, twoSidedP(z)};
  }

  public static double twoSidedP(double z) {
    return erfc(Math.abs(z) / Math.sqrt(2));
  }

  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}

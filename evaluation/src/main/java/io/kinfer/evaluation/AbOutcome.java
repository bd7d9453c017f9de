package io.kinfer.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Accuracy of each version that answered live traffic (an A/B split: every request saw one version),
 * from the recorded predictions and the labels, with Wilson intervals and a two-proportion z-test of
 * each version against the first.
 */
public final class AbOutcome {
  private final Map<String, long[]> groups = new TreeMap<>();

  /** What the report holds: accuracy per version, and each version tested against the first. */
  public record Summary(Map<String, PairSummary.Rate> accuracy, List<Test> tests) {}

  /** {@code b} against {@code a}; z > 0 means b is more often right. */
  public record Test(String a, String b, String method, double z, double pValue, String verdict) {}

  public void record(String version, boolean correct) {
    long[] g = groups.computeIfAbsent(version, v -> new long[2]);
    g[0] += correct ? 1 : 0;
    g[1]++;
  }

  public boolean isEmpty() {
    return groups.isEmpty();
  }

  public Summary summary() {
    Map<String, PairSummary.Rate> accuracy = new LinkedHashMap<>();
    groups.forEach((v, g) -> accuracy.put(v, PairSummary.Rate.of(g[0], g[1])));
    List<Test> tests = new ArrayList<>();
    List<String> names = new ArrayList<>(groups.keySet());
    for (int i = 1; i < names.size(); i++) {
      long[] a = groups.get(names.get(0));
      long[] b = groups.get(names.get(i));
      double[] t = Proportions.twoProportionZ(a[0], a[1], b[0], b[1]);
      tests.add(new Test(names.get(0), names.get(i), "two-proportion z-test (independent groups)", t[0], t[1],
          PairStats.verdict(t, names.get(i), names.get(0))));
    }
    return new Summary(accuracy, tests);
  }
}

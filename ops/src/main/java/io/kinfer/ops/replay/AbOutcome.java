package io.kinfer.ops.replay;

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
final class AbOutcome {
  private final Map<String, long[]> groups = new TreeMap<>();

  void record(String version, boolean correct) {
    long[] g = groups.computeIfAbsent(version, v -> new long[2]);
    g[0] += correct ? 1 : 0;
    g[1]++;
  }

  boolean isEmpty() {
    return groups.isEmpty();
  }

  Map<String, Object> toReport() {
    Map<String, Object> r = new LinkedHashMap<>();
    Map<String, Object> accuracy = new LinkedHashMap<>();
    groups.forEach((v, g) -> accuracy.put(v, PairStats.accuracy(g[0], g[1])));
    r.put("accuracy", accuracy);
    List<Map<String, Object>> tests = new ArrayList<>();
    List<String> names = new ArrayList<>(groups.keySet());
    for (int i = 1; i < names.size(); i++) {
      long[] a = groups.get(names.get(0));
      long[] b = groups.get(names.get(i));
      double[] t = Proportions.twoProportionZ(a[0], a[1], b[0], b[1]);
      Map<String, Object> test = new LinkedHashMap<>();
      test.put("a", names.get(0));
      test.put("b", names.get(i));
      test.put("method", "two-proportion z-test (independent groups)");
      test.put("z", t[0]);
      test.put("pValue", t[1]);
      test.put("verdict", PairStats.verdict(t, names.get(i), names.get(0)));
      tests.add(test);
    }
    r.put("tests", tests);
    return r;
  }
}

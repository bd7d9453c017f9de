package io.kinfer.dev.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How closely one build's embeddings follow another's over a bench's texts: mean, 1st percentile
 * (nearest rank) and minimum of the per-text cosine similarities. Exact, from every value: a bench
 * holds a few thousand, and its p1 is what a canary gate would be set from.
 */
record CosineSummary(int count, double mean, double p1, double min) {
  static CosineSummary of(double[] cosines) {
    if (cosines.length == 0) {
      throw new IllegalArgumentException("no cosine similarities to summarise");
    }
    double[] sorted = cosines.clone();
    Arrays.sort(sorted);
    int p1Rank = (int) Math.ceil(0.01 * sorted.length); // nearest rank: the smallest value with 1% at or below it
    return new CosineSummary(sorted.length, Arrays.stream(sorted).average().orElseThrow(), sorted[p1Rank - 1],
        sorted[0]);
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("texts", count);
    m.put("mean", mean);
    m.put("p1", p1);
    m.put("min", min);
    return m;
  }
}

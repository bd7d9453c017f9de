package io.kinfer.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Proportion statistics against textbook values, gate parsing, and the bounded pair statistics. */
class StatisticsTest {

  @Test
  void shouldMatchTheNormalDistribution() {
    assertThat(Proportions.twoSidedP(0)).isCloseTo(1.0, within(1e-7));
    assertThat(Proportions.twoSidedP(Proportions.Z95)).isCloseTo(0.05, within(1e-6));
    assertThat(Proportions.twoSidedP(3.0)).isCloseTo(0.0026998, within(1e-6));
    assertThat(Proportions.twoSidedP(-3.0)).isCloseTo(0.0026998, within(1e-6));
  }

  @Test
  void shouldGiveWilsonIntervalsThatStayInsideZeroAndOne() {
    // x = 0: the upper bound is z²/(n + z²).
    double[] none = Proportions.wilson(0, 10);
    assertThat(none[0]).isZero();
    assertThat(none[1]).isCloseTo(3.8414588 / 13.8414588, within(1e-6));
    double[] all = Proportions.wilson(10, 10);
    assertThat(all[1]).isCloseTo(1.0, within(1e-12)).isLessThanOrEqualTo(1.0);
    assertThat(all[0]).isCloseTo(1 - 3.8414588 / 13.8414588, within(1e-6));
    double[] half = Proportions.wilson(500, 1000);
    assertThat(half[0]).isCloseTo(0.4691, within(1e-4));
    assertThat(half[1]).isCloseTo(0.5309, within(1e-4));
  }

  @Test
  void shouldTestTwoProportionsAndPairedOutcomes() {
    double[] z = Proportions.twoProportionZ(45, 100, 60, 100);
    assertThat(z[0]).isCloseTo(2.1240, within(1e-3));
    assertThat(z[1]).isCloseTo(0.0337, within(1e-3));
    double[] m = Proportions.mcNemar(10, 25);
    assertThat(m[0]).isCloseTo(14 / Math.sqrt(35), within(1e-9));
    assertThat(m[1]).isCloseTo(0.01796, within(1e-4));
    assertThat(Proportions.mcNemar(25, 10)[0]).isNegative();
    assertThat(Proportions.mcNemar(0, 0)[1]).isEqualTo(1.0);
  }

  @Test
  void shouldParseGatesAndRefuseUnknownMetricsUpFront() {
    Gates gates = Gates.parse("agreement>=0.99, p99_diff<=1e-3");
    assertThat(gates.gates()).hasSize(2);
    assertThat(gates.check("x", Map.of("agreement", 0.995, "p99_diff", 2e-3)))
        .extracting(Gates.Verdict::passed).containsExactly(true, false);
    assertThat(gates.check("x", Map.of())).extracting(Gates.Verdict::passed).containsExactly(false, false);
    assertThatThrownBy(() -> Gates.parse("agrement>=0.9")).hasMessageContaining("Unknown gate metric 'agrement'");
    assertThatThrownBy(() -> Gates.parse("agreement=>0.9")).hasMessageContaining("METRIC OP NUMBER");
  }

  @Test
  void shouldCountExactZerosInDifferenceQuantiles() {
    PairStats stats = new PairStats("a", "b", 1e-6);
    for (int i = 0; i < 90; i++) {
      stats.record(0, 0.0, 1, 1, null, null);
    }
    for (int i = 0; i < 10; i++) {
      stats.record(0, 0.5, 1, 2, null, i < 5 ? 2 : 1);
    }
    Map<String, Double> m = stats.metrics();
    assertThat(m.get("p50_diff")).isZero();
    assertThat(m.get("p99_diff")).isCloseTo(0.5, within(0.5 * 1e-3));
    assertThat(m.get("agreement")).isEqualTo(0.9);
    assertThat(m.get("top1_agreement")).isEqualTo(0.9);
    assertThat(m.get("accuracy_baseline")).isEqualTo(0.5);
    assertThat(m.get("accuracy_candidate")).isEqualTo(0.5);
    List<List<Long>> matrix = stats.summary().confusion().matrix();
    assertThat(matrix.get(1).get(1)).isEqualTo(90);
    assertThat(matrix.get(1).get(2)).isEqualTo(10);
  }

  @Test
  void shouldSummariseCosineSimilarityAndGateOnItsLowTail() {
    PairStats stats = new PairStats("minilm:1", "minilm:2", 1e-6);
    for (int i = 0; i < 98; i++) {
      stats.record(0, 1e-3, null, 1.0);
    }
    stats.record(0, 1e-2, null, 0.999);
    stats.record(0, 5e-2, null, 0.9);
    Map<String, Double> m = stats.metrics();
    assertThat(m.get("cosine_min")).isEqualTo(0.9);
    assertThat(m.get("cosine_mean")).isCloseTo((98 + 0.999 + 0.9) / 100, within(1e-12));
    assertThat(m.get("cosine_p1")).as("one in a hundred is at or below 0.999").isCloseTo(0.999, within(1e-5));
    assertThat(m.get("cosine_p5")).isEqualTo(1.0);
    assertThat(Gates.parse("cosine_p1>=0.99").check("x", m)).extracting(Gates.Verdict::passed).containsExactly(true);
    assertThat(Gates.parse("cosine_min>=0.99").check("x", m)).extracting(Gates.Verdict::passed).containsExactly(false);

    PairSummary.Cosine cosine = stats.summary().cosine();
    assertThat(cosine.compared()).isEqualTo(100L);
    assertThat(cosine.min()).isEqualTo(0.9);
    assertThat(cosine.histogram()).extracting(b -> b.bucket() + "=" + b.count())
        .containsExactly("1=98", ">=0.99999=0", ">=0.9999=0", ">=0.999=1", ">=0.99=0", ">=0.9=1", "<0.9=0");
  }

  @Test
  void shouldLeaveCosineMetricsEmptyWhenNoOutputIsAVector() {
    PairStats stats = new PairStats("a", "b", 1e-6);
    stats.record(0, 0.0, null, null);
    assertThat(stats.metrics().get("cosine_p1")).isNaN();
    assertThat(stats.summary().cosine()).isNull();
    assertThat(Gates.parse("cosine_p1>=0.99").check("x", stats.metrics())).extracting(Gates.Verdict::passed)
        .as("no evidence fails a gate").containsExactly(false);
  }
}

package io.kinfer.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gates on typed comparisons and the auto-canary's rule, without a broker. */
class CanaryDecisionTest {
  private static final Duration WATCH = Duration.ofMinutes(5);

  /** {@code n} comparisons: the first {@code disagreeing} change the top-1 class. */
  static PairSummary pair(String candidate, int n, int disagreeing) {
    PairStats stats = new PairStats("mlp:1", candidate, 1e-6);
    for (int i = 0; i < n; i++) {
      stats.record(i * 1_000L, i < disagreeing ? 0.4 : 0.0, 3, i < disagreeing ? 4 : 3, null, null);
    }
    return stats.summary();
  }

  @Test
  void shouldPromoteOnlyWithEnoughComparisonsAndEveryGatePassed() {
    Gates gates = Gates.parse("top1_agreement>=0.99,failed_rate<=0.001");
    PairSummary good = pair("mlp:2", 500, 1);
    CanaryDecision promoted = CanaryDecision.decide("mlp:2", good.compared(), 200, WATCH, gates.check(List.of(good)));
    assertThat(promoted.promote()).isTrue();
    assertThat(promoted.reason()).startsWith("promoted mlp:2 after 500 comparisons")
        .contains("PASS mlp:2 vs mlp:1: top1_agreement 0.998");

    PairSummary bad = pair("mlp:3", 500, 50);
    CanaryDecision failed = CanaryDecision.decide("mlp:3", bad.compared(), 200, WATCH, gates.check(List.of(bad)));
    assertThat(failed.promote()).isFalse();
    assertThat(failed.reason()).contains("a gate failed", "FAIL mlp:3 vs mlp:1: top1_agreement 0.900000");

    PairSummary few = pair("mlp:2", 20, 0);
    CanaryDecision unproven = CanaryDecision.decide("mlp:2", few.compared(), 200, WATCH, gates.check(List.of(few)));
    assertThat(unproven.promote()).as("every gate passes, but on too few comparisons").isFalse();
    assertThat(unproven.reason()).contains("only 20 of 200 comparisons within PT5M");
  }

  @Test
  void shouldFailGatesWhenThereIsNothingToJudge() {
    Gates.Report none = Gates.parse("agreement>=0.9,failed_rate<=0.01").check(List.of());
    assertThat(none.passed()).isFalse();
    assertThat(none.verdicts()).extracting(v -> v.subject() + " " + v.gate())
        .containsExactly("(none) agreement>=0.9", "(none) failed_rate<=0.01");
    assertThat(Gates.none().check(List.of()).passed()).as("no gate, nothing to fail").isTrue();
  }

  @Test
  void shouldJudgeEveryComparisonAndFailIfAnyFails() {
    Gates.Report report = Gates.parse("top1_agreement>=0.95").check(List.of(pair("mlp:2", 100, 0),
        pair("mlp:3", 100, 10)));
    assertThat(report.verdicts()).extracting(Gates.Verdict::subject, Gates.Verdict::passed)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("mlp:2 vs mlp:1", true),
            org.assertj.core.groups.Tuple.tuple("mlp:3 vs mlp:1", false));
    assertThat(report.passed()).isFalse();
  }
}

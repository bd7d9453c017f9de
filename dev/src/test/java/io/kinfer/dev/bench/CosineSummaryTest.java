package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class CosineSummaryTest {
  @Test
  void shouldTakeMeanNearestRankP1AndMinimumWhateverTheOrder() {
    double[] cosines = new double[200];
    for (int i = 0; i < cosines.length; i++) {
      cosines[(i * 37) % 200] = 0.800 + i * 0.001; // 0.800 .. 0.999, shuffled
    }

    CosineSummary s = CosineSummary.of(cosines);

    assertThat(s.count()).isEqualTo(200);
    assertThat(s.min()).isCloseTo(0.800, within(1e-12));
    assertThat(s.p1()).as("2nd smallest of 200").isCloseTo(0.801, within(1e-12));
    assertThat(s.mean()).isCloseTo(0.8995, within(1e-12));
  }

  @Test
  void shouldUseTheSmallestValueAsP1OfFewerThanAHundred() {
    CosineSummary s = CosineSummary.of(new double[] {0.99, 0.95, 0.97});

    assertThat(s.p1()).isEqualTo(0.95);
    assertThat(s.min()).isEqualTo(0.95);
    assertThat(s.mean()).isCloseTo(0.97, within(1e-12));
  }

  @Test
  void shouldRefuseNothing() {
    assertThatThrownBy(() -> CosineSummary.of(new double[0])).hasMessageContaining("no cosine");
  }
}

package io.kinfer.client.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.worker.models.PackagedModels;
import org.junit.jupiter.api.Test;

class RequestFactoryTest {
  /**
   * Consecutive requests of any factory follow the long-tailed mix (80% 8-32 tokens, 15% 33-64,
   * 5% up to the maximum), whatever the seed: the padding and end-to-end benches compare runs of
   * two factories and must see the same mix.
   */
  @Test
  void shouldDrawTokenLengthsFromTheLongTailedMixForEverySeed() {
    for (long seed : new long[] {1, 7}) {
      RequestFactory factory = RequestFactory.tokens("t", seed, PackagedModels.MINILM, 128, 100);
      int shortOnes = 0;
      int medium = 0;
      int longOnes = 0;
      for (int i = 0; i < 2000; i++) {
        int tokens = factory.tokenIds(i).length;
        if (tokens <= 32) {
          shortOnes++;
        } else if (tokens <= 64) {
          medium++;
        } else {
          longOnes++;
        }
      }
      assertThat(shortOnes).as("seed %d: 8-32 tokens", seed).isBetween(1500, 1700);
      assertThat(medium).as("seed %d: 33-64 tokens", seed).isBetween(220, 380);
      assertThat(longOnes).as("seed %d: 65-128 tokens", seed).isBetween(50, 160);
    }
  }
}

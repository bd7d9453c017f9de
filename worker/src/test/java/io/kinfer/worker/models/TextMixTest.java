package io.kinfer.worker.models;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextMixTest {
  private static int words(String text) {
    return text.split(" ").length;
  }

  /**
   * Every seed gets the long tail (60% 2-12 words, 25% 13-40, 12% 41-120, 3% over 256 tokens): the
   * text bench's batches and the load generator's traffic must look alike whatever seed they use.
   */
  @Test
  void shouldDrawWordCountsFromTheLongTailedMixForEverySeed() {
    for (long seed : new long[] {1, 7}) {
      int[] classes = new int[4];
      for (int i = 0; i < 4000; i++) {
        int n = words(TextMix.text(seed, i));
        assertThat(n).as("seed %d text %d", seed, i).isBetween(2, 420);
        classes[n <= 12 ? 0 : n <= 40 ? 1 : n <= 120 ? 2 : 3]++;
      }
      assertThat(classes[0]).as("seed %d: 2-12 words", seed).isBetween(2250, 2550);
      assertThat(classes[1]).as("seed %d: 13-40 words", seed).isBetween(880, 1120);
      assertThat(classes[2]).as("seed %d: 41-120 words", seed).isBetween(380, 580);
      assertThat(classes[3]).as("seed %d: documents", seed).isBetween(80, 170);
    }
  }

  /** One word is at least one word piece: the long class is truncated by a 256-token model. */
  @Test
  void shouldMakeDocumentsLongerThanTheModelReads() {
    int longest = 0;
    for (int i = 0; i < 1000; i++) {
      longest = Math.max(longest, words(TextMix.text(3, i)));
    }
    assertThat(longest).isGreaterThanOrEqualTo(TextMix.LONG_MIN_WORDS).isGreaterThan(256);
  }

  @Test
  void shouldRecomputeTheSameTextFromSeedAndIndex() {
    for (int i = 0; i < 100; i++) {
      assertThat(TextMix.text(5, i)).isEqualTo(TextMix.text(5, i));
    }
    long differentFromOtherSeed = java.util.stream.IntStream.range(0, 100)
        .filter(i -> !TextMix.text(5, i).equals(TextMix.text(6, i))).count();
    long differentFromNextIndex = java.util.stream.IntStream.range(0, 100)
        .filter(i -> !TextMix.text(5, i).equals(TextMix.text(5, i + 1))).count();
    assertThat(differentFromOtherSeed).isEqualTo(100);
    assertThat(differentFromNextIndex).isEqualTo(100);
  }

  /** Tokenizers must meet accents, non-Latin scripts and emoji (beyond the BMP), not only ASCII. */
  @Test
  void shouldMixAsciiNonAsciiAndEmojiTexts() {
    int ascii = 0;
    int nonAscii = 0;
    int beyondBmp = 0;
    for (int i = 0; i < 1000; i++) {
      String text = TextMix.text(1, i);
      boolean allAscii = text.chars().allMatch(c -> c < 0x80);
      ascii += allAscii ? 1 : 0;
      nonAscii += allAscii ? 0 : 1;
      beyondBmp += text.codePoints().anyMatch(Character::isSupplementaryCodePoint) ? 1 : 0;
    }
    assertThat(ascii).isGreaterThan(200);
    assertThat(nonAscii).isGreaterThan(200);
    assertThat(beyondBmp).isGreaterThan(100);
  }
}

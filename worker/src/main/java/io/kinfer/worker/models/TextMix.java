package io.kinfer.worker.models;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A generated mix of texts shaped like real embedding traffic, reproducible from (seed, index) so a
 * test or a bench can recompute any request's text: most texts a short query or sentence, a few
 * paragraphs, and some documents longer than a 256-token model reads (so truncation is exercised).
 * Words are mostly English, with accented, non-Latin and emoji words mixed in, so tokenization does
 * the work real multilingual input makes it do.
 */
public final class TextMix {
  /** Texts of the longest class have at least this many words, so more than 256 tokens for any word-piece tokenizer. */
  public static final int LONG_MIN_WORDS = 260;

  private static final List<String> WORDS = List.of(
      "the", "a", "of", "to", "and", "in", "is", "for", "on", "with", "that", "it", "as", "was", "at", "by",
      "order", "delivery", "refund", "account", "password", "payment", "invoice", "shipping", "package", "arrived",
      "late", "broken", "customer", "support", "please", "help", "thanks", "question", "product", "price", "discount",
      "subscription", "cancel", "update", "address", "email", "phone", "number", "store", "online", "weather",
      "tomorrow", "morning", "meeting", "schedule", "report", "quarterly", "revenue", "growth", "market", "model",
      "inference", "latency", "throughput", "cluster", "server", "deploy", "version", "release", "feature", "bug",
      "error", "timeout", "retry", "network", "database", "query", "index", "search", "result", "relevant",
      "document", "summary", "translate", "language", "sentence", "embedding", "vector", "similar", "recommend",
      "movie", "music", "book", "restaurant", "hotel", "flight", "ticket", "booking", "travel", "city", "beach",
      "mountain", "coffee", "breakfast", "dinner", "recipe", "chicken", "vegetarian", "healthy", "running", "shoes",
      "jacket", "size", "color", "blue", "green", "small", "large", "quickly", "really", "never", "always",
      "unbelievable", "internationalization", "misunderstanding", "cryptocurrency", "photosynthesis");
  private static final List<String> NON_ASCII = List.of(
      "café", "naïve", "Zürich", "señor", "façade", "Straße", "Ærøskøbing", "crème", "brûlée", "東京", "日本語",
      "北京欢迎你", "привет", "спасибо", "مرحبا", "שלום", "नमस्ते", "안녕하세요", "Ελλάδα", "İstanbul", "Việt");
  private static final List<String> EMOJI = List.of("🙂", "🚀", "👍🏽", "❤️", "🎉", "😂", "🔥", "🤖", "👨‍👩‍👧");

  private TextMix() {}

  /** The text of request {@code index} of the mix {@code seed}. */
  public static String text(long seed, long index) {
    // SplittableRandom mixes its seed: consecutive indexes draw unrelated texts.
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + index);
    return text(random, words(random));
  }

  /**
   * A long-tailed word count: 60% a query or sentence (2-12 words), 25% a few sentences (13-40), 12%
   * a paragraph (41-120), 3% a document of {@value #LONG_MIN_WORDS}-420 words.
   */
  static int words(SplittableRandom random) {
    double u = random.nextDouble();
    return u < 0.60 ? random.nextInt(2, 13) : u < 0.85 ? random.nextInt(13, 41)
        : u < 0.97 ? random.nextInt(41, 121) : random.nextInt(LONG_MIN_WORDS, 421);
  }

  /** {@code words} words in sentences of 4-15 words; 7% of words non-ASCII, 3% emoji. */
  private static String text(SplittableRandom random, int words) {
    StringBuilder out = new StringBuilder();
    int sentenceLeft = 0;
    for (int w = 0; w < words; w++) {
      boolean sentenceStart = sentenceLeft == 0;
      if (sentenceStart) {
        sentenceLeft = random.nextInt(4, 16);
      }
      double u = random.nextDouble();
      String word = u < 0.07 ? pick(random, NON_ASCII) : u < 0.10 ? pick(random, EMOJI) : pick(random, WORDS);
      if (w > 0) {
        out.append(' ');
      }
      out.append(sentenceStart ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
      if (--sentenceLeft == 0 || w == words - 1) {
        out.append(random.nextInt(5) == 0 ? '?' : '.');
      }
    }
    return out.toString();
  }

  private static String pick(SplittableRandom random, List<String> words) {
    return words.get(random.nextInt(words.size()));
  }
}

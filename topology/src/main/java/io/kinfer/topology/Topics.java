package io.kinfer.topology;

/** Names of every topic the worker reads or writes; defaults as in the design. */
public record Topics(String requests, String predictions, String deadLetters, String shadow,
    String comparisons, String control, String status) {
  public static final String DEFAULT_REQUESTS = "inference.requests";
  public static final String DEFAULT_PREDICTIONS = "inference.predictions";
  public static final String DEFAULT_DEAD_LETTERS = "inference.dlq";
  public static final String DEFAULT_SHADOW = "inference.shadow";
  public static final String DEFAULT_COMPARISONS = "inference.comparisons";
  public static final String DEFAULT_CONTROL = "inference.control";
  public static final String DEFAULT_STATUS = "inference.status";

  public static Topics defaults() {
    return new Topics(DEFAULT_REQUESTS, DEFAULT_PREDICTIONS, DEFAULT_DEAD_LETTERS, DEFAULT_SHADOW,
        DEFAULT_COMPARISONS, DEFAULT_CONTROL, DEFAULT_STATUS);
  }

  public Topics withPredictions(String topic) {
    return new Topics(requests, topic, deadLetters, shadow, comparisons, control, status);
  }
}

package io.kinfer.topology;

/** Names of every topic the worker reads or writes; defaults as in the design. */
public record Topics(String requests, String predictions, String deadLetters) {
  public static final String DEFAULT_REQUESTS = "inference.requests";
  public static final String DEFAULT_PREDICTIONS = "inference.predictions";
  public static final String DEFAULT_DEAD_LETTERS = "inference.dlq";

  public static Topics defaults() {
    return new Topics(DEFAULT_REQUESTS, DEFAULT_PREDICTIONS, DEFAULT_DEAD_LETTERS);
  }
}

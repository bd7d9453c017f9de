package io.kinfer.topology;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Names of every topic of a deployment, defaults as in the design, and the one definition of each
 * topic's shape ({@link #outputs()}, {@link #history()}) that the worker, {@code ops security init}
 * and {@code ops ctl} create them from.
 */
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

  /** Where {@code ops ctl} records every plan it issues, for rollback (read by operators only). */
  public static final String HISTORY_SUFFIX = ".history";

  /**
   * A topic's shape: partitioned like the request topic (the worker's outputs, so an answer's
   * partition follows its request's) or one partition; compacted (latest per key) or deleted by age.
   */
  public record Spec(String name, boolean partitionedLikeRequests, boolean compacted) {
    /** The topic to create, beside a request topic of {@code requestPartitions}; the broker's replication factor. */
    public NewTopic newTopic(int requestPartitions) {
      NewTopic topic = new NewTopic(name, Optional.of(partitionedLikeRequests ? requestPartitions : 1), Optional.empty());
      return compacted ? topic.configs(Map.of("cleanup.policy", "compact")) : topic;
    }
  }

  /** The topics a worker creates when absent: what it writes, and the control topic it reads. */
  public List<Spec> outputs() {
    return List.of(new Spec(predictions, true, false), new Spec(deadLetters, false, false),
        new Spec(shadow, true, false), new Spec(comparisons, true, false),
        new Spec(control, false, true), new Spec(status, false, true));
  }

  /** The plan history topic: every plan issued, in order (not compacted: rollback reads the one before). */
  public Spec history() {
    return new Spec(control + HISTORY_SUFFIX, false, false);
  }

  /** Every topic of a deployment: requests, the worker's outputs, the plan history. */
  public List<Spec> all() {
    List<Spec> all = new ArrayList<>();
    all.add(new Spec(requests, true, false));
    all.addAll(outputs());
    all.add(history());
    return all;
  }

  public Topics withPredictions(String topic) {
    return new Topics(requests, topic, deadLetters, shadow, comparisons, control, status);
  }
}

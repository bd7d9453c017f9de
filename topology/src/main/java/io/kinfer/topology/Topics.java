package io.kinfer.topology;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Names of every topic of a deployment, defaults as in the design, and the one definition of each
 * topic ({@link Spec}: partitions, cleanup, value record and its serdes) that the worker,
 * {@code ops security init} and {@code ops ctl} create them from and read and write them with.
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
   * A topic's one definition: its name; partitioned like the request topic (the worker's outputs,
   * so an answer's partition follows its request's) or one partition; compacted (latest per key)
   * or deleted by age; and the Avro record its values hold (Confluent wire format, String keys),
   * or null where values are not ours to decode (dead letters keep the bytes as read).
   *
   * @param <V> the value's record class ({@link SpecificRecord} itself for a raw topic, whose serdes refuse)
   */
  public record Spec<V extends SpecificRecord>(String name, boolean partitionedLikeRequests, boolean compacted,
      Schema valueSchema) {
    /** A topic whose values are not one of our records. */
    public static Spec<SpecificRecord> raw(String name, boolean partitionedLikeRequests, boolean compacted) {
      return new Spec<>(name, partitionedLikeRequests, compacted, null);
    }

    /** The topic to create, beside a request topic of {@code requestPartitions}; the broker's replication factor. */
    public NewTopic newTopic(int requestPartitions) {
      NewTopic topic = new NewTopic(name, Optional.of(partitionedLikeRequests ? requestPartitions : 1), Optional.empty());
      return compacted ? topic.configs(Map.of("cleanup.policy", "compact")) : topic;
    }

    /** Writes values in the wire format under this topic's value subject (the schema registered on first use). */
    public AvroWireSerializer<V> valueSerializer(SchemaRegistry registry) {
      return new AvroWireSerializer<>(registry, avro(), false);
    }

    /** Reads values of any registered writer schema into this topic's record (schema resolution). */
    public AvroWireDeserializer<V> valueDeserializer(SchemaRegistry registry) {
      return new AvroWireDeserializer<>(registry, avro());
    }

    private Schema avro() {
      if (valueSchema == null) {
        throw new IllegalStateException(name + " holds values as they were read, not Avro records of ours");
      }
      return valueSchema;
    }
  }

  /** A request topic under any name (load, replay and bench take theirs as an option). */
  public static Spec<InferenceRequest> requestsSpec(String name) {
    return new Spec<>(name, true, false, InferenceRequest.getClassSchema());
  }

  /** A topic of answers under any name: predictions, shadow answers, a replay's sandbox. */
  public static Spec<InferenceResponse> answersSpec(String name) {
    return new Spec<>(name, true, false, InferenceResponse.getClassSchema());
  }

  public Spec<InferenceRequest> requestsTopic() {
    return requestsSpec(requests);
  }

  public Spec<InferenceResponse> predictionsTopic() {
    return answersSpec(predictions);
  }

  /** The original key and value bytes of what could not be served, with the reason in headers. */
  public Spec<SpecificRecord> deadLettersTopic() {
    return Spec.raw(deadLetters, false, false);
  }

  public Spec<InferenceResponse> shadowTopic() {
    return answersSpec(shadow);
  }

  public Spec<ShadowComparison> comparisonsTopic() {
    return new Spec<>(comparisons, true, false, ShadowComparison.getClassSchema());
  }

  /** Signed plans, latest per model. */
  public Spec<ControlCommand> controlTopic() {
    return new Spec<>(control, false, true, ControlCommand.getClassSchema());
  }

  /** Each worker's (and the auto-canary's) latest status. */
  public Spec<ModelStatus> statusTopic() {
    return new Spec<>(status, false, true, ModelStatus.getClassSchema());
  }

  /** The topics a worker creates when absent: what it writes, and the control topic it reads. */
  public List<Spec<?>> outputs() {
    return List.of(predictionsTopic(), deadLettersTopic(), shadowTopic(), comparisonsTopic(), controlTopic(),
        statusTopic());
  }

  /** The plan history topic: every plan issued, in order (not compacted: rollback reads the one before). */
  public Spec<ControlCommand> history() {
    return new Spec<>(control + HISTORY_SUFFIX, false, false, ControlCommand.getClassSchema());
  }

  /** Every topic of a deployment: requests, the worker's outputs, the plan history. */
  public List<Spec<?>> all() {
    List<Spec<?>> all = new ArrayList<>();
    all.add(requestsTopic());
    all.addAll(outputs());
    all.add(history());
    return all;
  }

  public Topics withPredictions(String topic) {
    return new Topics(requests, topic, deadLetters, shadow, comparisons, control, status);
  }
}

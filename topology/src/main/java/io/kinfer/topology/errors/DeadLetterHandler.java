package io.kinfer.topology.errors;

import com.codahale.metrics.SharedMetricRegistries;
import io.kinfer.topology.PipelineMetrics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' deserialization handler for the request topic: a record that cannot be decoded
 * goes to the dead-letter topic with its original key, value and headers, plus what went wrong and
 * where it came from; processing resumes (the partition never stalls). The dead-letter record is
 * produced by Streams in the same transaction as the task's other output.
 */
public final class DeadLetterHandler implements DeserializationExceptionHandler {
  /** Name of the shared Dropwizard registry to count dead letters in. */
  public static final String METRICS_REGISTRY_CONFIG = "kinfer.metrics.registry";
  public static final String STAGE_DECODE = "decode";
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

  private String topic;
  private PipelineMetrics metrics;

  @Override
  public void configure(Map<String, ?> configs) {
    Object name = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    if (name == null) {
      throw new IllegalArgumentException(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG
          + " must be set: undecodable requests are kept there");
    }
    topic = name.toString();
    Object registry = configs.get(METRICS_REGISTRY_CONFIG);
    metrics = new PipelineMetrics(SharedMetricRegistries.getOrCreate(
        registry == null ? PipelineMetrics.PREFIX : registry.toString()));
  }

  @Override
  public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
      Exception exception) {
    LOG.warn("Undecodable record {}-{}@{} sent to {}: {}", context.topic(), context.partition(),
        context.offset(), topic, exception.getMessage());
    metrics.deadLetter(STAGE_DECODE);
    return Response.resume(List.of(deadLetter(topic, record.key(), record.value(), record.headers(),
        exception, STAGE_DECODE, context.topic(), context.partition(), context.offset())));
  }

  /** The dead-letter record: original bytes and headers, plus error and source headers. */
  public static ProducerRecord<byte[], byte[]> deadLetter(String dlqTopic, byte[] key, byte[] value,
      Headers original, Throwable error, String stage, String sourceTopic, int partition, long offset) {
    return new ProducerRecord<>(dlqTopic, null, key, value, DeadLetters.headers(original,
        error.getClass().getName(), String.valueOf(error.getMessage()), stage, sourceTopic, partition, offset));
  }
}

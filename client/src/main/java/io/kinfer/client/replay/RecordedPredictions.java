package io.kinfer.client.replay;

import io.kinfer.client.security.ClientSettings;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The predictions the worker recorded, joined to replayed requests by request id as a windowed
 * stream join: the predictions topic is read forward, only as far as the requests in hand need
 * (their timestamps + the allowed answer delay), and read-ahead answers wait in a bounded map.
 * Memory is about (request rate × answer delay), not the size of the range.
 */
final class RecordedPredictions implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final AvroWireDeserializer<InferenceResponse> decoder;
  private final String topic;
  private final long latenessMs;
  private final int maxPending;
  private final LinkedHashMap<String, InferenceResponse> pending = new LinkedHashMap<>();
  private final Map<TopicPartition, Long> end = new HashMap<>();
  private final Map<TopicPartition, Long> lastTimestamp = new HashMap<>();
  private long evicted;
  private long undecodable;

  RecordedPredictions(Map<String, Object> client, SchemaRegistry registry, String topic, Duration lateness,
      int maxPending) {
    this.consumer = new KafkaConsumer<>(ClientSettings.committedReader(client), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    this.decoder = Topics.answersSpec(topic).valueDeserializer(registry);
    this.topic = topic;
    this.latenessMs = lateness.toMillis();
    this.maxPending = maxPending;
  }

  /** Positions every partition at the first answer that can belong to a request at or after {@code fromMs}. */
  void open(long fromMs) {
    List<TopicPartition> partitions = TopicRange.partitions(consumer, topic);
    consumer.assign(partitions);
    end.putAll(consumer.endOffsets(partitions));
    TopicRange.offsetsAt(consumer, partitions, Math.max(0, fromMs - latenessMs), end).forEach(consumer::seek);
    partitions.forEach(tp -> lastTimestamp.put(tp, Long.MIN_VALUE));
  }

  /** Reads until every partition is past {@code requestTimestampMs} + the answer delay, or at its end. */
  void advanceTo(long requestTimestampMs) {
    long until = requestTimestampMs + latenessMs;
    long stalledSince = System.currentTimeMillis();
    while (true) {
      List<TopicPartition> behind = new ArrayList<>();
      for (TopicPartition tp : end.keySet()) {
        if (consumer.position(tp) < end.get(tp) && lastTimestamp.get(tp) < until) {
          behind.add(tp);
        }
      }
      if (behind.isEmpty()) {
        return;
      }
      consumer.resume(behind);
      List<TopicPartition> ahead = new ArrayList<>(end.keySet());
      ahead.removeAll(behind);
      consumer.pause(ahead);
      var records = consumer.poll(Duration.ofMillis(200));
      if (!records.isEmpty()) {
        stalledSince = System.currentTimeMillis();
      } else if (System.currentTimeMillis() - stalledSince > 60_000) {
        throw new IllegalStateException("No progress reading " + topic + " for 60 s (partitions " + behind
            + " behind their end): is the broker reachable and the topic readable by this principal?");
      }
      for (ConsumerRecord<byte[], byte[]> r : records) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        lastTimestamp.put(tp, Math.max(lastTimestamp.get(tp), r.timestamp()));
        if (r.offset() >= end.get(tp)) {
          continue;
        }
        try {
          InferenceResponse response = decoder.deserialize(topic, r.value());
          pending.put(response.getId().toString(), response);
        } catch (RuntimeException e) {
          undecodable++;
        }
      }
      for (Iterator<?> it = pending.keySet().iterator(); pending.size() > maxPending && it.hasNext(); ) {
        it.next();
        it.remove();
        evicted++;
      }
    }
  }

  /** The recorded answer to {@code id}, or null; each answer is handed out once. */
  InferenceResponse take(String id) {
    return pending.remove(id);
  }

  Map<String, Object> toReport() {
    return Map.of("topic", topic, "answerDelayAllowedMs", latenessMs, "evictedUnmatched", evicted,
        "undecodable", undecodable);
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(2));
  }
}

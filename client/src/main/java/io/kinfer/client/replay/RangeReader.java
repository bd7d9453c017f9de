package io.kinfer.client.replay;

import io.kinfer.client.security.ClientSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Streams the records of a {@link TopicRange} (raw bytes; decoding is the caller's, so a bad record
 * is reported, not fatal) in poll-sized chunks, without a consumer group and with read_committed.
 * Memory is one poll's worth whatever the range.
 */
public final class RangeReader implements AutoCloseable {
  /** Gets each chunk, in partition order within a chunk. */
  public interface ChunkHandler {
    void accept(List<ConsumerRecord<byte[], byte[]>> chunk) throws Exception;
  }

  private final KafkaConsumer<byte[], byte[]> consumer;

  public RangeReader(Map<String, Object> client, int maxPollRecords) {
    Map<String, Object> config = ClientSettings.committedReader(client);
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  public KafkaConsumer<byte[], byte[]> consumer() {
    return consumer;
  }

  /**
   * Reads the whole range (or until {@code stop} says so) and returns how many records were handed
   * over. Records outside [start, end) or outside the time range are skipped.
   */
  public long read(TopicRange range, BooleanSupplier stop, ChunkHandler handler) throws Exception {
    Map<TopicPartition, TopicRange.Part> open = assignAtStarts(range);
    consumer.resume(consumer.assignment());
    long handed = 0;
    while (!open.isEmpty() && !stop.getAsBoolean()) {
      List<ConsumerRecord<byte[], byte[]>> chunk = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        TopicRange.Part part = open.get(new TopicPartition(r.topic(), r.partition()));
        if (part != null && r.offset() < part.end() && range.contains(r.timestamp())) {
          chunk.add(r);
        }
      }
      // A partition is done once its position passes the end (control records and aborted data included).
      for (TopicRange.Part part : List.copyOf(open.values())) {
        if (consumer.position(part.partition()) >= part.end()) {
          open.remove(part.partition());
          consumer.pause(List.of(part.partition()));
        }
      }
      if (!chunk.isEmpty()) {
        handler.accept(chunk);
        handed += chunk.size();
      }
    }
    return handed;
  }

  /** The earliest timestamp among the first record of each partition's slice (Long.MAX_VALUE if empty). */
  public long firstTimestamp(TopicRange range) {
    Map<TopicPartition, TopicRange.Part> open = assignAtStarts(range);
    long earliest = Long.MAX_VALUE;
    long deadline = System.currentTimeMillis() + 30_000;
    while (!open.isEmpty() && System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (open.remove(tp) != null) {
          earliest = Math.min(earliest, r.timestamp());
          consumer.pause(List.of(tp));
        }
      }
      for (TopicRange.Part part : List.copyOf(open.values())) {
        if (consumer.position(part.partition()) >= part.end()) {
          open.remove(part.partition());
        }
      }
    }
    consumer.unsubscribe();
    return earliest;
  }

  /** Assigns the range's non-empty partitions, each at its start; returns them by partition. */
  private Map<TopicPartition, TopicRange.Part> assignAtStarts(TopicRange range) {
    Map<TopicPartition, TopicRange.Part> open = new HashMap<>();
    range.parts().stream().filter(p -> p.size() > 0).forEach(p -> open.put(p.partition(), p));
    consumer.assign(new ArrayList<>(open.keySet()));
    open.values().forEach(p -> consumer.seek(p.partition(), p.start()));
    return open;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(2));
  }
}

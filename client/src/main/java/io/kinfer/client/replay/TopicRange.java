package io.kinfer.client.replay;

import io.kinfer.topology.ReadToEnd;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Which records of a topic to read, per partition: offsets [start, end), found from a time range
 * with offsetsForTimes or given as offsets, and fixed when the run starts (records produced later
 * are not part of it). A time range also filters each record by its timestamp, so records whose
 * CreateTime is out of order at the edges are kept only when they are inside [from, to).
 */
public record TopicRange(String topic, List<Part> parts, Instant from, Instant to) {

  /** One partition's slice. */
  public record Part(TopicPartition partition, long start, long end) {
    public long size() {
      return Math.max(0, end - start);
    }
  }

  public long size() {
    return parts.stream().mapToLong(Part::size).sum();
  }

  /** Whether a record at {@code timestampMs} belongs to the range. */
  public boolean contains(long timestampMs) {
    return (from == null || timestampMs >= from.toEpochMilli()) && (to == null || timestampMs < to.toEpochMilli());
  }

  /**
   * @param from inclusive, or null; {@code fromOffset} applies when from is null (null = beginning)
   * @param to exclusive, or null; {@code toOffset} (exclusive) applies when to is null (null = current end)
   */
  public static TopicRange resolve(Consumer<?, ?> consumer, String topic, Instant from, Instant to, Long fromOffset,
      Long toOffset) {
    if (from != null && to != null && !from.isBefore(to)) {
      throw new IllegalArgumentException("--from " + from + " is not before --to " + to);
    }
    List<TopicPartition> partitions = partitions(consumer, topic);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    Map<TopicPartition, Long> starts = from == null ? null : offsetsAt(consumer, partitions, from.toEpochMilli(), end);
    Map<TopicPartition, Long> ends = to == null ? null : offsetsAt(consumer, partitions, to.toEpochMilli(), end);
    List<Part> parts = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      long b = begin.get(tp);
      long e = end.get(tp);
      long start = starts != null ? starts.get(tp) : fromOffset != null ? Math.max(b, fromOffset) : b;
      long stop = ends != null ? ends.get(tp) : toOffset != null ? Math.min(e, toOffset) : e;
      parts.add(new Part(tp, Math.max(b, start), Math.max(Math.max(b, start), Math.min(e, stop))));
    }
    return new TopicRange(topic, List.copyOf(parts), from, to);
  }

  /** Every partition of {@code topic}, in partition order; a clear error if this principal cannot see it. */
  public static List<TopicPartition> partitions(Consumer<?, ?> consumer, String topic) {
    return ReadToEnd.partitions(consumer, topic, Duration.ofSeconds(30));
  }


  /** Per partition, the first offset with a timestamp at or after {@code atMs}, else the partition's end. */
  public static Map<TopicPartition, Long> offsetsAt(Consumer<?, ?> consumer, List<TopicPartition> partitions,
      long atMs, Map<TopicPartition, Long> end) {
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(tp -> query.put(tp, atMs));
    Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, Duration.ofSeconds(30));
    Map<TopicPartition, Long> out = new HashMap<>();
    // No record at or after the instant: the partition's end.
    partitions.forEach(tp -> out.put(tp, found.get(tp) == null ? end.get(tp) : found.get(tp).offset()));
    return out;
  }
}

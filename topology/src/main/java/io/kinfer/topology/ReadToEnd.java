package io.kinfer.topology;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reading a topic without a group up to an end fixed beforehand (plans, history, status, recorded
 * answers): the records produced later are not part of the read, and a read_committed consumer's
 * end is the last stable offset, so it waits for nothing that may still abort.
 */
public final class ReadToEnd {
  private ReadToEnd() {}

  /** Every partition of {@code topic}, in partition order; a clear error if this principal cannot see it. */
  public static List<TopicPartition> partitions(Consumer<?, ?> consumer, String topic, Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException("Topic '" + topic + "' does not exist or is not visible to this principal");
    }
    List<TopicPartition> partitions = new ArrayList<>();
    infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    partitions.sort(Comparator.comparingInt(TopicPartition::partition));
    return partitions;
  }

  /**
   * Polls the (assigned, positioned) consumer until every partition of {@code end} is at its end
   * offset, handing every record polled to {@code each}: also one past its partition's end that came
   * in the same poll, since the consumer's position moves past it (a reader that keeps its consumer
   * for the next read must not drop it; a one-off read filters by offset itself).
   *
   * @throws IllegalStateException when {@code timeout} passes first, naming {@code what}
   */
  public static <K, V> void poll(Consumer<K, V> consumer, Map<TopicPartition, Long> end, Duration timeout, String what,
      java.util.function.Consumer<ConsumerRecord<K, V>> each) {
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), timeout) < e.getValue())) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("Timed out after " + timeout.toSeconds() + " s reading " + what
            + " up to its end; check that the cluster is reachable and this principal may read it");
      }
      consumer.poll(Duration.ofMillis(200)).forEach(each);
    }
  }
}

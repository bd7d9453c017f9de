package io.kinfer.client.load;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Waits until no answer can still arrive, instead of sleeping: the workers' group has committed
 * every input it reads (under exactly-once, each input offset commits in the transaction of its
 * answers, so nothing more will be written for them), and the tracker has read the answer topic up
 * to its last committed offset. A late duplicate would then already have been counted.
 */
public final class Settled {
  private Settled() {}

  public static void untilNoneInFlight(String bootstrapServers, String groupId, String requestTopic, String answerTopic,
      PredictionTracker tracker, Duration atMost) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
      long deadline = System.nanoTime() + atMost.toNanos();
      poll("the group " + groupId + " to commit every request", deadline, 200, () -> committedToEnd(admin, groupId, requestTopic));
      Map<TopicPartition, Long> end = endOffsets(admin, answerTopic, IsolationLevel.READ_COMMITTED);
      poll("the tracker to read " + answerTopic + " to its last committed offset", deadline, 100,
          () -> end.entrySet().stream().allMatch(e -> tracker.positions().getOrDefault(e.getKey(), -1L) >= e.getValue()));
    }
  }

  /** A condition on the cluster's or the tracker's state. */
  public interface Check {
    boolean done() throws Exception;
  }

  /** Polls {@code check} every {@code periodMs} until it holds; fails naming {@code what} after {@code atMost}. */
  public static void until(String what, Duration atMost, long periodMs, Check check) throws Exception {
    poll(what + " (" + atMost.toSeconds() + " s)", System.nanoTime() + atMost.toNanos(), periodMs, check);
  }

  private static void poll(String what, long deadlineNanos, long periodMs, Check check) throws Exception {
    while (!check.done()) {
      if (System.nanoTime() > deadlineNanos) {
        throw new IllegalStateException("Timed out waiting for " + what);
      }
      Thread.sleep(periodMs); // the period of a poll of the broker's state, not a wait for an event
    }
  }

  /**
   * The group has committed every partition of the request topic to its end (its producers are not
   * transactional, so the end is the last request + 1, with no commit marker after it).
   */
  private static boolean committedToEnd(Admin admin, String groupId, String topic) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
    Map<TopicPartition, Long> ends = endOffsets(admin, topic, IsolationLevel.READ_UNCOMMITTED);
    return ends.entrySet().stream().allMatch(e -> e.getValue() == 0 || committed.get(e.getKey()) != null
        && committed.get(e.getKey()).offset() >= e.getValue());
  }

  /** End offsets; under read_committed the last stable offsets, what a read_committed reader can reach. */
  private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, IsolationLevel isolation)
      throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic).partitions()
        .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    Map<TopicPartition, Long> out = new HashMap<>();
    admin.listOffsets(latest, new ListOffsetsOptions(isolation)).all().get()
        .forEach((p, info) -> out.put(p, info.offset()));
    return out;
  }
}

package io.kinfer.worker.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Which keys a worker reads: its own ({@link WorkerConfig#CONFIG_DEF}) and, under
 * {@value WorkerConfig#KAFKA_PREFIX}, what Kafka Streams and its clients know (with the prefixes
 * Streams uses to address one client, e.g. {@code kafka.producer.linger.ms}).
 */
final class KnownSettings {
  /** Streams' per-client prefixes; {@code topic.} takes any topic setting, so it is not checked further. */
  private static final List<String> CLIENT_PREFIXES = List.of(StreamsConfig.CONSUMER_PREFIX,
      StreamsConfig.MAIN_CONSUMER_PREFIX, StreamsConfig.RESTORE_CONSUMER_PREFIX, StreamsConfig.GLOBAL_CONSUMER_PREFIX,
      StreamsConfig.PRODUCER_PREFIX, StreamsConfig.ADMIN_CLIENT_PREFIX);
  private static final Set<String> KAFKA_KEYS = kafkaKeys();

  private KnownSettings() {}

  static boolean isKnown(String key) {
    if (WorkerConfig.CONFIG_DEF.names().contains(key)) {
      return true;
    }
    if (!key.startsWith(WorkerConfig.KAFKA_PREFIX)) {
      return false;
    }
    String client = key.substring(WorkerConfig.KAFKA_PREFIX.length());
    if (KAFKA_KEYS.contains(client) || client.startsWith(StreamsConfig.TOPIC_PREFIX)) {
      return true;
    }
    for (String prefix : CLIENT_PREFIXES) {
      if (client.startsWith(prefix) && KAFKA_KEYS.contains(client.substring(prefix.length()))) {
        return true;
      }
    }
    return false;
  }

  /** " Did you mean 'x'?" for the closest known key within a few edits, else nothing. */
  static String suggestion(String key) {
    Set<String> candidates = new HashSet<>(WorkerConfig.CONFIG_DEF.names());
    KAFKA_KEYS.forEach(k -> candidates.add(WorkerConfig.KAFKA_PREFIX + k));
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : candidates) {
      int distance = distance(key, candidate);
      if (distance < bestDistance || distance == bestDistance && candidate.compareTo(best) < 0) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return bestDistance <= Math.max(3, key.length() / 4) ? " Did you mean '" + best + "'?" : "";
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  private static Set<String> kafkaKeys() {
    Set<String> keys = new HashSet<>(StreamsConfig.configDef().names());
    keys.addAll(ConsumerConfig.configNames());
    keys.addAll(ProducerConfig.configNames());
    keys.addAll(AdminClientConfig.configNames());
    return Set.copyOf(keys);
  }
}

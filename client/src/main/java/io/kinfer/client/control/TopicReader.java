package io.kinfer.client.control;

import io.kinfer.client.security.ClientSettings;
import io.kinfer.topology.ReadToEnd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

/** Reads a topic from the beginning (or its last records) up to its current end, without a group. */
public final class TopicReader {
  private TopicReader() {}

  /**
   * @param tail per partition, how many of the last records to read; 0 = all
   */
  public static <K, V> void read(String bootstrap, String topic, Deserializer<K> keys, Deserializer<V> values,
      long tail, Consumer<ConsumerRecord<K, V>> each) {
    read(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic, keys, values, tail, each);
  }

  /** As above, with full client settings (bootstrap, security). */
  public static <K, V> void read(Map<String, Object> client, String topic, Deserializer<K> keys,
      Deserializer<V> values, long tail, Consumer<ConsumerRecord<K, V>> each) {
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(ClientSettings.committedReader(client), keys, values)) {
      // A topic not created yet (no worker has started) reads as empty.
      List<TopicPartition> partitions = new ArrayList<>();
      consumer.partitionsFor(topic, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, tail <= 0 ? begin.get(tp) : Math.max(begin.get(tp), end.get(tp) - tail));
      }
      ReadToEnd.poll(consumer, end, Duration.ofSeconds(60), topic, r -> {
        if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
          each.accept(r);
        }
      });
    }
  }
}

package io.kinfer.dev;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class EmbeddedKafkaTest {
  @Test
  void shouldCommitTransactionsVisibleToReadCommittedConsumers() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.startEphemeral()) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
      }
      Properties pp = new Properties();
      pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-1");
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("t", "k", "committed"));
        producer.commitTransaction();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("t", "k", "aborted"));
        producer.abortTransaction();
      }
      Properties cp = new Properties();
      cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      cp.put(ConsumerConfig.GROUP_ID_CONFIG, "g");
      cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("t"));
        List<String> seen = new java.util.ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (seen.isEmpty() && System.currentTimeMillis() < deadline) {
          ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
          records.forEach(r -> seen.add(r.value()));
        }
        assertThat(seen).containsExactly("committed");
      }
    }
  }
}

package io.kinfer.dev.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kinfer.client.control.TopicReader;
import io.kinfer.schemas.registry.CompatibilityLevel;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.InMemorySchemaRegistry.Change;
import io.kinfer.schemas.registry.InMemorySchemaRegistry.ConfigChanged;
import io.kinfer.schemas.registry.InMemorySchemaRegistry.Registered;
import io.kinfer.worker.config.TopicSetup;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Keeps the registry's changes in a compacted Kafka topic, as Confluent's registry does with
 * {@code _schemas}: replayed on start, appended (and acknowledged) before a registration returns.
 */
public final class KafkaSchemaJournal implements AutoCloseable {
  public static final String TOPIC = "_schemas";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaProducer<String, String> producer;

  private KafkaSchemaJournal(KafkaProducer<String, String> producer) {
    this.producer = producer;
  }

  /** Creates the topic if needed, replays it into {@code registry}, then journals new changes. */
  public static KafkaSchemaJournal attach(String bootstrapServers, InMemorySchemaRegistry registry) throws Exception {
    return attach(Map.of("bootstrap.servers", bootstrapServers), registry);
  }

  /** @param client Kafka client settings: bootstrap and, on a secured cluster, security */
  public static KafkaSchemaJournal attach(Map<String, Object> client, InMemorySchemaRegistry registry) throws Exception {
    try (Admin admin = Admin.create(client)) {
      TopicSetup.createIfAbsent(admin, List.of(new NewTopic(TOPIC, 1, (short) 1)
          .configs(Map.of("cleanup.policy", "compact"))));
    }
    replay(client, registry);
    Map<String, Object> producerConfig = new java.util.HashMap<>(client);
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
        new StringSerializer());
    KafkaSchemaJournal journal = new KafkaSchemaJournal(producer);
    registry.setJournal(journal::append);
    return journal;
  }

  private static void replay(Map<String, Object> client, InMemorySchemaRegistry registry) {
    TopicReader.read(client, TOPIC, new StringDeserializer(), new StringDeserializer(), 0, record -> {
      if (record.value() != null) {
        registry.replay(parse(record.value()));
      }
    });
  }

  private void append(Change change) {
    String key;
    ObjectNode value = JSON.createObjectNode();
    if (change instanceof Registered r) {
      key = "schema/" + r.subject() + "/" + r.version();
      value.put("type", "schema").put("subject", r.subject()).put("version", r.version())
          .put("id", r.id()).put("schema", r.schema());
    } else {
      ConfigChanged c = (ConfigChanged) change;
      key = "config/" + (c.subject() == null ? "" : c.subject());
      value.put("type", "config").put("subject", c.subject()).put("level", c.level().name());
    }
    try {
      producer.send(new ProducerRecord<>(TOPIC, key, value.toString())).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while journaling a schema change", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Cannot persist schema change to " + TOPIC + ": " + e.getCause(), e);
    }
  }

  private static Change parse(String json) {
    try {
      var n = JSON.readTree(json);
      if ("schema".equals(n.path("type").asText())) {
        return new Registered(n.get("subject").asText(), n.get("version").asInt(), n.get("id").asInt(),
            n.get("schema").asText());
      }
      String subject = n.get("subject").isNull() ? null : n.get("subject").asText();
      return new ConfigChanged(subject, CompatibilityLevel.valueOf(n.get("level").asText()));
    } catch (Exception e) {
      throw new IllegalStateException("Corrupt record in " + TOPIC + ": " + json, e);
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}

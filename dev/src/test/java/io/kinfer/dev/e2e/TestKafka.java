package io.kinfer.dev.e2e;

import io.kinfer.dev.EmbeddedKafka;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka broker for end-to-end tests: Testcontainers' Apache Kafka image when a Docker engine
 * is reachable, else the in-JVM KRaft broker (this build machine and CI have no Docker engine).
 * The tests only see a bootstrap address, so the same test code runs on either.
 */
final class TestKafka implements AutoCloseable {
  static final String IMAGE = "apache/kafka:4.1.1";
  private final KafkaContainer container;
  private final EmbeddedKafka embedded;

  private TestKafka(KafkaContainer container, EmbeddedKafka embedded) {
    this.container = container;
    this.embedded = embedded;
  }

  static TestKafka start() throws Exception {
    if (dockerAvailable()) {
      KafkaContainer container = new KafkaContainer(IMAGE);
      container.start();
      return new TestKafka(container, null);
    }
    return new TestKafka(null, EmbeddedKafka.startEphemeral());
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | Error e) {
      return false;
    }
  }

  String bootstrapServers() {
    return container != null ? container.getBootstrapServers() : embedded.bootstrapServers();
  }

  String kind() {
    return container != null ? "testcontainers " + IMAGE : "in-JVM KRaft broker";
  }

  @Override
  public void close() {
    if (container != null) {
      container.stop();
    }
    if (embedded != null) {
      embedded.close();
    }
  }
}

package io.kinfer.dev.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.dev.EmbeddedKafka;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.registry.CompatibilityLevel;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.registry.SchemaRegistryException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST client against the embedded endpoint, over real HTTP, as any Confluent client would. */
@Tag("integration")
class EmbeddedSchemaRegistryTest {
  private static final Schema V1 = SchemaBuilder.record("Thing").namespace("t").fields()
      .requiredString("id").endRecord();
  private static final Schema V2 = SchemaBuilder.record("Thing").namespace("t").fields()
      .requiredString("id").name("n").type().intType().intDefault(0).endRecord();
  private static final Schema BREAKING = SchemaBuilder.record("Thing").namespace("t").fields()
      .requiredString("id").requiredInt("mandatory").endRecord();

  private EmbeddedSchemaRegistry server;
  private RestSchemaRegistryClient client;

  @BeforeEach
  void start() throws Exception {
    server = new EmbeddedSchemaRegistry(new InMemorySchemaRegistry(), "127.0.0.1", 0);
    client = new RestSchemaRegistryClient(server.url());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void shouldRegisterLookUpAndListOverHttp() {
    int id1 = client.register("things-value", V1);
    int id2 = client.register("things-value", V2);

    assertThat(id2).isNotEqualTo(id1);
    assertThat(client.register("things-value", V1)).as("idempotent").isEqualTo(id1);
    assertThat(client.register("other-value", V1)).as("same schema, same global id").isEqualTo(id1);
    assertThat(new RestSchemaRegistryClient(server.url()).schemaById(id2)).isEqualTo(V2);
    assertThat(client.subjects()).containsExactly("other-value", "things-value");
    assertThat(client.versions("things-value")).containsExactly(1, 2);
    assertThat(client.version("things-value", "latest").schema()).isEqualTo(V2);
    assertThat(client.version("things-value", "1").id()).isEqualTo(id1);
    assertThat(client.lookup("things-value", V2).version()).isEqualTo(2);
  }

  @Test
  void shouldRefuseIncompatibleSchemaUnderBackwardCompatibility() {
    client.register("things-value", V1);
    assertThat(client.isCompatible("things-value", "latest", V2)).isTrue();
    assertThat(client.isCompatible("things-value", "latest", BREAKING)).isFalse();
    assertThatThrownBy(() -> client.register("things-value", BREAKING))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.httpStatus()).isEqualTo(409))
        .hasMessageContaining("incompatible");

    client.setCompatibility("things-value", CompatibilityLevel.NONE);
    assertThat(client.compatibility("things-value")).isEqualTo(CompatibilityLevel.NONE);
    assertThat(client.compatibility(null)).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(client.register("things-value", BREAKING)).isPositive();
  }

  @Test
  void shouldAnswerWithConfluentErrorCodes() throws Exception {
    assertThatThrownBy(() -> client.schemaById(999))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    assertThatThrownBy(() -> client.versions("nope"))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
    client.register("things-value", V1);
    assertThatThrownBy(() -> client.version("things-value", "7"))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40402));

    HttpResponse<String> invalid = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(server.url() + "/subjects/x-value/versions"))
        .header("Content-Type", RestSchemaRegistryClient.CONTENT_TYPE)
        .POST(HttpRequest.BodyPublishers.ofString("{\"schema\": \"{not avro\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(invalid.statusCode()).isEqualTo(422);
    assertThat(invalid.body()).contains("\"error_code\":42201");
  }

  @Test
  void shouldKeepSchemasAcrossRestartInTheSchemasTopic(@TempDir Path data) throws Exception {
    int id;
    EmbeddedKafka kafka = new EmbeddedKafka(data, 0, Map.of());
    kafka.start();
    try {
      InMemorySchemaRegistry first = new InMemorySchemaRegistry();
      try (KafkaSchemaJournal journal = KafkaSchemaJournal.attach(kafka.bootstrapServers(), first)) {
        id = first.register("inference.requests-value", InferenceRequest.getClassSchema());
        first.setCompatibility("inference.requests-value", CompatibilityLevel.FULL);
      }
      kafka.stop();
      kafka.start();
      InMemorySchemaRegistry second = new InMemorySchemaRegistry();
      try (KafkaSchemaJournal journal = KafkaSchemaJournal.attach(kafka.bootstrapServers(), second)) {
        assertThat(second.schemaById(id)).isEqualTo(InferenceRequest.getClassSchema());
        assertThat(second.compatibility("inference.requests-value")).isEqualTo(CompatibilityLevel.FULL);
        assertThat(second.register("new-value", V1)).as("ids keep increasing").isGreaterThan(id);
      }
    } finally {
      kafka.close();
    }
  }
}

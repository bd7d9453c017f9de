package io.kinfer.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * The part of the Confluent Schema Registry API the worker needs. Two implementations: {@link
 * RestSchemaRegistryClient} (HTTP, any Confluent-compatible registry) and {@link
 * InMemorySchemaRegistry} (the state behind the embedded registry endpoint).
 */
public interface SchemaRegistry {

  /** Registers {@code schema} under {@code subject} (idempotent) and returns its global id. */
  int register(String subject, Schema schema);

  /** The id of {@code schema} if already registered under {@code subject}. */
  RegisteredSchema lookup(String subject, Schema schema);

  /** The writer schema with this global id. */
  Schema schemaById(int id);

  /** One version of a subject; {@code version} is a number or {@code "latest"}. */
  RegisteredSchema version(String subject, String version);

  List<String> subjects();

  List<Integer> versions(String subject);

  /** Whether {@code schema} may be registered after {@code version} under the subject's level. */
  boolean isCompatible(String subject, String version, Schema schema);

  CompatibilityLevel compatibility(String subject);

  /** Sets the level of one subject, or the global default when {@code subject} is null. */
  void setCompatibility(String subject, CompatibilityLevel level);

  record RegisteredSchema(String subject, int version, int id, Schema schema) {}
}

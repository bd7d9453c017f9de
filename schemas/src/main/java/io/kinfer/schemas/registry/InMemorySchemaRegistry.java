package io.kinfer.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.avro.Schema;

/**
 * Registry state with Confluent's semantics: global ids shared by identical schemas, versions per
 * subject, compatibility per subject with a global default. Thread-safe. Every change is also
 * passed to an optional journal so the embedded endpoint can persist it (as the real registry does
 * in its {@code _schemas} topic) and {@link #replay} it after a restart.
 */
public final class InMemorySchemaRegistry implements SchemaRegistry {

  /** One change, as written to and replayed from the journal. */
  public sealed interface Change {}

  public record Registered(String subject, int version, int id, String schema) implements Change {}

  public record ConfigChanged(String subject, CompatibilityLevel level) implements Change {}

  private final Map<String, List<RegisteredSchema>> subjects = new TreeMap<>();
  private final Map<Integer, Schema> byId = new HashMap<>();
  private final Map<String, Integer> idByCanonical = new HashMap<>();
  private final Map<String, CompatibilityLevel> levels = new HashMap<>();
  private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
  private int nextId = 1;
  private Consumer<Change> journal = change -> {};

  public synchronized void setJournal(Consumer<Change> journal) {
    this.journal = journal;
  }

  /** Re-applies a journaled change without journaling it again. */
  public synchronized void replay(Change change) {
    if (change instanceof Registered r) {
      Schema schema = new Schema.Parser().parse(r.schema());
      byId.put(r.id(), schema);
      idByCanonical.putIfAbsent(schema.toString(), r.id());
      List<RegisteredSchema> versions = subjects.computeIfAbsent(r.subject(), s -> new ArrayList<>());
      if (versions.stream().noneMatch(v -> v.version() == r.version())) {
        versions.add(new RegisteredSchema(r.subject(), r.version(), r.id(), schema));
      }
      nextId = Math.max(nextId, r.id() + 1);
    } else if (change instanceof ConfigChanged c) {
      applyLevel(c.subject(), c.level());
    }
  }

  @Override
  public synchronized int register(String subject, Schema schema) {
    RegisteredSchema existing = find(subject, schema);
    if (existing != null) {
      return existing.id();
    }
    List<RegisteredSchema> versions = subjects.getOrDefault(subject, List.of());
    if (!compatibility(subject).allows(schema, versions.stream().map(RegisteredSchema::schema).toList())) {
      throw new SchemaRegistryException(409, SchemaRegistryException.INCOMPATIBLE,
          "Schema being registered is incompatible with an earlier schema for subject \"" + subject
              + "\" under compatibility level " + compatibility(subject));
    }
    String canonical = schema.toString();
    Integer known = idByCanonical.get(canonical);
    int id = known != null ? known : nextId;
    int version = versions.isEmpty() ? 1 : versions.get(versions.size() - 1).version() + 1;
    Registered change = new Registered(subject, version, id, canonical);
    journal.accept(change); // persisted first: a failed write changes nothing
    replay(change);
    return id;
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema) {
    requireSubject(subject);
    RegisteredSchema found = find(subject, schema);
    if (found == null) {
      throw SchemaRegistryException.notFound(SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema not found");
    }
    return found;
  }

  @Override
  public synchronized Schema schemaById(int id) {
    Schema schema = byId.get(id);
    if (schema == null) {
      throw SchemaRegistryException.notFound(SchemaRegistryException.SCHEMA_NOT_FOUND,
          "Schema " + id + " not found");
    }
    return schema;
  }

  @Override
  public synchronized RegisteredSchema version(String subject, String version) {
    List<RegisteredSchema> versions = requireSubject(subject);
    if ("latest".equals(version) || "-1".equals(version)) {
      return versions.get(versions.size() - 1);
    }
    int wanted = parseVersion(version);
    return versions.stream().filter(v -> v.version() == wanted).findFirst()
        .orElseThrow(() -> SchemaRegistryException.notFound(SchemaRegistryException.VERSION_NOT_FOUND,
            "Version " + version + " not found."));
  }

  @Override
  public synchronized List<String> subjects() {
    return List.copyOf(subjects.keySet());
  }

  @Override
  public synchronized List<Integer> versions(String subject) {
    return requireSubject(subject).stream().map(RegisteredSchema::version).toList();
  }

  @Override
  public synchronized boolean isCompatible(String subject, String version, Schema schema) {
    List<RegisteredSchema> versions = subjects.getOrDefault(subject, List.of());
    if (versions.isEmpty()) {
      return true;
    }
    CompatibilityLevel level = compatibility(subject);
    if ("latest".equals(version) || "-1".equals(version)) {
      return level.allows(schema, versions.stream().map(RegisteredSchema::schema).toList());
    }
    return level.allows(schema, List.of(version(subject, version).schema()));
  }

  @Override
  public synchronized CompatibilityLevel compatibility(String subject) {
    return subject == null ? globalLevel : levels.getOrDefault(subject, globalLevel);
  }

  /** The level set on the subject itself, or null when it follows the global default. */
  public synchronized CompatibilityLevel subjectCompatibility(String subject) {
    return levels.get(subject);
  }

  @Override
  public synchronized void setCompatibility(String subject, CompatibilityLevel level) {
    journal.accept(new ConfigChanged(subject, level));
    applyLevel(subject, level);
  }

  private void applyLevel(String subject, CompatibilityLevel level) {
    if (subject == null) {
      globalLevel = level;
    } else {
      levels.put(subject, level);
    }
  }

  private RegisteredSchema find(String subject, Schema schema) {
    for (RegisteredSchema candidate : subjects.getOrDefault(subject, List.of())) {
      if (candidate.schema().equals(schema)) {
        return candidate;
      }
    }
    return null;
  }

  private List<RegisteredSchema> requireSubject(String subject) {
    List<RegisteredSchema> versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw SchemaRegistryException.notFound(SchemaRegistryException.SUBJECT_NOT_FOUND,
          "Subject '" + subject + "' not found.");
    }
    return versions;
  }

  private static int parseVersion(String version) {
    try {
      int v = Integer.parseInt(version);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // fall through to the Confluent error below
    }
    throw SchemaRegistryException.unprocessable(SchemaRegistryException.INVALID_VERSION,
        "The specified version '" + version + "' is not a valid version id. Allowed values are"
            + " between [1, 2^31-1] and the string \"latest\"");
  }
}

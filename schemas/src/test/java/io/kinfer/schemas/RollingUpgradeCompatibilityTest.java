package io.kinfer.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kinfer.schemas.registry.CompatibilityLevel;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FORWARD compatibility of the topics that workers of two releases read at the same time during a
 * rolling upgrade: the control topic (ControlCommand, written by ops ctl of either release), the
 * batch store's changelog (BufferedRequest: a task moves between an upgraded worker and one that is
 * not yet) and the status topic (ModelStatus, read by ops status and the auto-canary). What the next
 * release writes there must be readable by this one; {@link SchemaEvolutionTest} checks the other
 * direction.
 */
class RollingUpgradeCompatibilityTest {
  static {
    AvroSafety.ensureConfigured(); // trusts the generated classes, as the serdes do
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NOTE = "nextReleaseNote";
  private static final String COUNT = "nextReleaseCount";

  static Stream<SpecificRecordBase> rollingUpgradeRecords() {
    Tensor tensor = Tensor.newBuilder().setName("x").setDatatype(Datatype.FP32).setShape(List.of(1L, 2L))
        .setRaw(ByteBuffer.wrap(new byte[] {0, 0, -128, 63, 0, 0, 0, 64}))
        .setData(TensorData.newBuilder().setFp32(List.of(1f, 2f)).build()).build();
    InferenceRequest request = InferenceRequest.newBuilder().setId("r1").setModel("mlp").setVersion("2")
        .setInputs(List.of(tensor)).setParameters(Map.of("trace", "1")).setDeadline(Instant.ofEpochMilli(1_000)).build();
    return Stream.of(
        ControlCommand.newBuilder().setModel("mlp").setGeneration(7)
            .setRoutes(List.of(new Route("1", Role.PRIMARY, 0.9), new Route("2", Role.CANARY, 0.1)))
            .setSalt("s").setMaxBatchSize(8).setMaxWaitMs(5L).setIssuer("ops").setIssuedAt(Instant.ofEpochMilli(2_000))
            .setKeyId("ops").setSignature(ByteBuffer.wrap(new byte[64])).build(),
        BufferedRequest.newBuilder().setKey("k").setRequest(request).setVersion("1").setVariant("primary")
            .setPlanGeneration(7).setShadows(List.of("2")).setRecordTimestamp(3_000).setSourcePartition(1)
            .setSourceOffset(42).setEnqueuedAtMs(3_001).build(),
        ModelStatus.newBuilder().setWorker("w1").setAt(Instant.ofEpochMilli(4_000))
            .setLoaded(List.of(new LoadedVersion("mlp", "1", "ab".repeat(32))))
            .setAppliedGenerations(Map.of("mlp", 7L)).setEvents(List.of("applied mlp@7")).build());
  }

  @ParameterizedTest
  @MethodSource("rollingUpgradeRecords")
  void shouldReadWhatANextReleaseWritesAfterAddingOptionalFieldsToEveryRecord(SpecificRecordBase record)
      throws IOException {
    Schema current = record.getSchema();
    Schema next = withNewOptionalFields(current);

    assertThat(canRead(current, next)).as("this release reads the next one's " + current.getName()).isTrue();
    assertThat(canRead(next, current)).as("the next release reads this one's " + current.getName()).isTrue();
    assertThat(CompatibilityLevel.FULL.allows(next, List.of(current))).isTrue();

    // Real bytes as the next release's producer writes them, its new fields set (not defaulted).
    GenericRecord written = new GenericDatumReader<GenericRecord>(current, next)
        .read(null, DecoderFactory.get().binaryDecoder(encode(current, record), null));
    assertThat(setNewFields(written)).as("records given the new fields").isGreaterThan(0);
    InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    int id = registry.register("topic-value", next);
    byte[] body = encode(next, written);
    byte[] value = ByteBuffer.allocate(WireFormat.HEADER_BYTES + body.length).put(WireFormat.MAGIC).putInt(id)
        .put(body).array();

    assertThat(new AvroWireDeserializer<SpecificRecordBase>(registry, current).deserialize("topic", value))
        .isEqualTo(record);
  }

  static Stream<Path> releasedRollingUpgradeSchemas() throws IOException {
    Set<String> names = Set.of("ControlCommand.avsc", "BufferedRequest.avsc", "ModelStatus.avsc");
    return Files.walk(Path.of("src/test/resources/compat"))
        .filter(p -> names.contains(p.getFileName().toString())).sorted();
  }

  @ParameterizedTest
  @MethodSource("releasedRollingUpgradeSchemas")
  void shouldLetEveryReleasedWorkerReadWhatThisReleaseWrites(Path released) throws IOException {
    Schema old = new Schema.Parser().parse(Files.readString(released));
    Schema current = rollingUpgradeRecords().map(SpecificRecordBase::getSchema)
        .filter(s -> s.getFullName().equals(old.getFullName())).findFirst().orElseThrow();
    assertThat(canRead(old, current)).as(released + " must read records written with the current schema").isTrue();
  }

  /**
   * Adding a symbol to an enum without a default is not FORWARD compatible: the older reader fails
   * on the whole record. These are known and deliberate (an older worker cannot route an unknown
   * role or interpret an unknown tensor type, and no symbol would be a safe stand-in); a new enum in
   * these records needs the same decision, or a default.
   */
  @Test
  void shouldKnowEveryEnumWithoutADefaultInTheRollingUpgradeRecords() {
    Set<String> withoutDefault = new LinkedHashSet<>();
    rollingUpgradeRecords().forEach(r -> enums(r.getSchema(), new LinkedHashSet<>()).stream()
        .filter(e -> e.getEnumDefault() == null).forEach(e -> withoutDefault.add(e.getFullName())));
    assertThat(withoutDefault).containsExactlyInAnyOrder("io.kinfer.schemas.Role", "io.kinfer.schemas.Datatype");
  }

  private static Set<Schema> enums(Schema schema, Set<Schema> seen) {
    Set<Schema> out = new LinkedHashSet<>();
    if (!seen.add(schema)) {
      return out;
    }
    switch (schema.getType()) {
      case ENUM -> out.add(schema);
      case RECORD -> schema.getFields().forEach(f -> out.addAll(enums(f.schema(), seen)));
      case ARRAY -> out.addAll(enums(schema.getElementType(), seen));
      case MAP -> out.addAll(enums(schema.getValueType(), seen));
      case UNION -> schema.getTypes().forEach(t -> out.addAll(enums(t, seen)));
      default -> { }
    }
    return out;
  }

  /** {@code schema} with two optional fields with defaults appended to every record type in it. */
  static Schema withNewOptionalFields(Schema schema) throws IOException {
    JsonNode json = JSON.readTree(schema.toString());
    addFields(json);
    return new Schema.Parser().parse(json.toString());
  }

  private static void addFields(JsonNode node) {
    if (node instanceof ObjectNode object && "record".equals(object.path("type").asText())) {
      ArrayNode fields = (ArrayNode) object.get("fields");
      fields.addObject().put("name", NOTE).putNull("default").putArray("type").add("null").add("string");
      fields.addObject().put("name", COUNT).put("type", "long").put("default", 0);
    }
    node.forEach(RollingUpgradeCompatibilityTest::addFields);
  }

  /** Sets the new fields of every record reachable from {@code datum}; returns how many records. */
  private static int setNewFields(Object datum) {
    int count = 0;
    if (datum instanceof GenericRecord record) {
      record.put(NOTE, "from the next release");
      record.put(COUNT, 42L);
      count++;
      for (Schema.Field f : record.getSchema().getFields()) {
        count += setNewFields(record.get(f.pos()));
      }
    } else if (datum instanceof Collection<?> items) {
      for (Object item : items) {
        count += setNewFields(item);
      }
    } else if (datum instanceof Map<?, ?> map) {
      for (Object value : map.values()) {
        count += setNewFields(value);
      }
    }
    return count;
  }

  private static boolean canRead(Schema reader, Schema writer) {
    return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
        == SchemaCompatibilityType.COMPATIBLE;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static byte[] encode(Schema schema, Object datum) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    if (datum instanceof SpecificRecordBase) {
      new org.apache.avro.specific.SpecificDatumWriter(schema).write(datum, encoder);
    } else {
      new GenericDatumWriter(schema, new GenericData()).write(datum, encoder);
    }
    encoder.flush();
    return out.toByteArray();
  }
}

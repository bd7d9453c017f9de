package io.kinfer.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class AvroWireSerdeTest {
  private static final String TOPIC = "inference.requests";
  private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
  private final AvroWireSerializer<InferenceRequest> serializer =
      new AvroWireSerializer<>(registry, InferenceRequest.getClassSchema(), false);
  private final AvroWireDeserializer<InferenceRequest> deserializer =
      new AvroWireDeserializer<>(registry, InferenceRequest.getClassSchema());

  static InferenceRequest request(String id) {
    ByteBuffer raw = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    Tensor input = Tensor.newBuilder().setName("x").setDatatype(Datatype.FP32)
        .setShape(List.of(1L, 2L)).setRaw(raw).build();
    return InferenceRequest.newBuilder().setId(id).setModel("mlp").setInputs(List.of(input))
        .setParameters(Map.of("k", "v")).build();
  }

  @Test
  void shouldRoundTripInConfluentWireFormat() {
    byte[] bytes = serializer.serialize(TOPIC, request("r1"));

    assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC);
    int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
    assertThat(registry.version(TOPIC + "-value", "latest").id()).isEqualTo(id);
    assertThat(deserializer.deserialize(TOPIC, bytes)).isEqualTo(request("r1"));
  }

  @Test
  void shouldReadRecordWrittenWithOlderCompatibleSchema() throws Exception {
    // The first version of the request had no parameters and no deadline.
    Schema old = new Schema.Parser().parse("""
        {"type":"record","name":"InferenceRequest","namespace":"io.kinfer.schemas","fields":[
          {"name":"id","type":"string"},{"name":"model","type":"string"},
          {"name":"version","type":["null","string"],"default":null},
          {"name":"inputs","type":{"type":"array","items":%s}}]}
        """.formatted(Tensor.getClassSchema().toString()));
    int oldId = registry.register(TOPIC + "-value", old);
    GenericRecord tensor = new GenericData.Record(Tensor.getClassSchema());
    tensor.put("name", "x");
    tensor.put("datatype", new GenericData.EnumSymbol(Datatype.getClassSchema(), "FP32"));
    tensor.put("shape", List.of(1L, 1L));
    tensor.put("raw", ByteBuffer.wrap(new byte[4]));
    GenericRecord record = new GenericData.Record(old);
    record.put("id", "old-1");
    record.put("model", "mlp");
    record.put("inputs", List.of(tensor));

    InferenceRequest read = deserializer.deserialize(TOPIC, frame(oldId, old, record));

    assertThat(read.getId()).isEqualTo("old-1");
    assertThat(read.getParameters()).isEmpty();
    assertThat(read.getDeadline()).isNull();
    assertThat(registry.versions(TOPIC + "-value")).hasSize(1);
    serializer.serialize(TOPIC, request("new"));
    assertThat(registry.versions(TOPIC + "-value")).containsExactly(1, 2);
  }

  @Test
  void shouldRejectBadMagicByteWithClearMessage() {
    byte[] bytes = serializer.serialize(TOPIC, request("r1"));
    bytes[0] = 7;
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(WireFormatException.class).hasMessageContaining("Bad magic byte 0x07");
  }

  @Test
  void shouldRejectUnknownSchemaId() {
    byte[] bytes = serializer.serialize(TOPIC, request("r1"));
    ByteBuffer.wrap(bytes).putInt(1, 4242);
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bytes))
        .isInstanceOf(WireFormatException.class).hasMessageContaining("Unknown schema id 4242");
  }

  @Test
  void shouldRejectTruncatedBytes() {
    byte[] bytes = serializer.serialize(TOPIC, request("r1"));
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, Arrays.copyOf(bytes, bytes.length - 3)))
        .isInstanceOf(WireFormatException.class).hasMessageContaining("schema id");
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {0, 0}))
        .isInstanceOf(WireFormatException.class).hasMessageContaining("Truncated record");
  }

  @Test
  void shouldRefuseHugeLengthBeforeAllocating() throws Exception {
    byte[] good = serializer.serialize(TOPIC, request("r1"));
    // Header, then id "r1" (length 2 as zig-zag varint 4), then a string claiming 2^31-1 chars.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(good, 0, WireFormat.HEADER_BYTES);
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    enc.writeString("r1");
    enc.writeLong(Integer.MAX_VALUE);
    enc.flush();

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, out.toByteArray()))
        .isInstanceOf(WireFormatException.class);
  }

  private static byte[] frame(int id, Schema schema, GenericRecord record) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, enc);
    enc.flush();
    return out.toByteArray();
  }
}

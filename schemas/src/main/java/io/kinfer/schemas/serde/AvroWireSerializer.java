package io.kinfer.schemas.serde;

import io.kinfer.schemas.registry.SchemaRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary. The
 * schema is registered under TopicNameStrategy ({@code <topic>-value} or {@code <topic>-key}) on
 * first use per topic; the id is cached.
 */
public final class AvroWireSerializer<T extends SpecificRecord> implements Serializer<T> {
  static {
    AvroSafety.ensureConfigured();
  }

  private final SchemaRegistry registry;
  private final Schema schema;
  private final boolean isKey;
  private final SpecificDatumWriter<T> writer;
  private final Map<String, Integer> idByTopic = new ConcurrentHashMap<>();
  private final ThreadLocal<BinaryEncoder> encoders = new ThreadLocal<>();

  public AvroWireSerializer(SchemaRegistry registry, Schema schema, boolean isKey) {
    this.registry = registry;
    this.schema = schema;
    this.isKey = isKey;
    this.writer = new SpecificDatumWriter<>(schema);
  }

  public static String subject(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }

  /** Registers the schema for {@code topic} now, so the first record pays no HTTP round trip. */
  public int registerFor(String topic) {
    return idByTopic.computeIfAbsent(topic, t -> registry.register(subject(t, isKey), schema));
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    int id = registerFor(topic);
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(WireFormat.MAGIC);
    out.write(ByteBuffer.allocate(4).putInt(id).array(), 0, 4);
    try {
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, encoders.get());
      encoders.set(encoder);
      writer.write(data, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("Cannot encode " + schema.getFullName() + " for topic " + topic, e);
    }
    return out.toByteArray();
  }
}

package io.kinfer.schemas.serde;

import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format into a generated class. The writer schema is resolved by id, so a
 * producer using an older or newer compatible schema is read through Avro schema resolution.
 * Every failure is a {@link WireFormatException} naming the problem; allocation limits are set by
 * {@link AvroSafety} so a length field claiming 2^31 elements is refused before allocating.
 */
public final class AvroWireDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  static {
    AvroSafety.ensureConfigured();
  }

  private final SchemaRegistry registry;
  private final Schema readerSchema;
  private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
  private final ThreadLocal<BinaryDecoder> decoders = new ThreadLocal<>();

  public AvroWireDeserializer(SchemaRegistry registry, Schema readerSchema) {
    this.registry = registry;
    this.readerSchema = readerSchema;
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    if (data.length < WireFormat.HEADER_BYTES) {
      throw new WireFormatException("Truncated record: " + data.length
          + " bytes, shorter than the 5-byte Confluent wire-format header");
    }
    if (data[0] != WireFormat.MAGIC) {
      throw new WireFormatException(String.format(
          "Bad magic byte 0x%02x: expected 0x00 (Confluent Schema Registry wire format). "
              + "Produce with a Schema Registry Avro serializer.", data[0]));
    }
    int id = ByteBuffer.wrap(data, 1, 4).getInt();
    SpecificDatumReader<T> reader = readerFor(id, topic);
    try {
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(
          data, WireFormat.HEADER_BYTES, data.length - WireFormat.HEADER_BYTES, decoders.get());
      decoders.set(decoder);
      T value = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new WireFormatException("Trailing bytes after the Avro record with schema id " + id);
      }
      return value;
    } catch (IOException e) {
      throw new WireFormatException("Truncated or corrupt Avro body (schema id " + id + ", "
          + data.length + " bytes): " + e.getMessage(), e);
    } catch (AvroRuntimeException | UnsupportedOperationException | IndexOutOfBoundsException
        | NegativeArraySizeException e) {
      throw new WireFormatException("Invalid Avro body (schema id " + id + "): " + e, e);
    }
  }

  private SpecificDatumReader<T> readerFor(int id, String topic) {
    SpecificDatumReader<T> cached = readers.get(id);
    if (cached != null) {
      return cached;
    }
    Schema writer;
    try {
      writer = registry.schemaById(id);
    } catch (SchemaRegistryException e) {
      if (e.httpStatus() == 404) {
        throw new WireFormatException("Unknown schema id " + id + " on topic " + topic
            + ": it is not in the Schema Registry this worker uses", e);
      }
      throw e;
    }
    SpecificDatumReader<T> reader = new SpecificDatumReader<>(writer, readerSchema);
    readers.putIfAbsent(id, reader);
    return reader;
  }
}

package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.WireFormat;
import io.kinfer.schemas.serde.WireFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Decodes control topic values (Confluent wire format) twice: into this worker's {@link
 * ControlCommand}, through Avro schema resolution, and into a generic record of the writer's own
 * schema (looked up by the value's schema id), from which the signed bytes are taken. The second
 * decoding never involves this worker's schema, so a plan verifies the same on workers of any
 * schema version (see {@link ControlSigning}).
 */
public final class ControlRecordDecoder {
  private final SchemaRegistry registry;
  private final AvroWireDeserializer<ControlCommand> commands;
  private final Map<Integer, Writer> writers = new ConcurrentHashMap<>();

  public ControlRecordDecoder(SchemaRegistry registry) {
    this.registry = registry;
    this.commands = new AvroWireDeserializer<>(registry, ControlCommand.getClassSchema());
  }

  /**
   * @throws WireFormatException (or the registry's exception) when the value does not decode
   */
  public ControlRecord decode(String topic, byte[] value) {
    ControlCommand command = commands.deserialize(topic, value); // checks the header and the body
    int id = ByteBuffer.wrap(value, 1, 4).getInt();
    Writer writer = writers.computeIfAbsent(id, i -> new Writer(registry.schemaById(i)));
    GenericRecord asWritten;
    try {
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, WireFormat.HEADER_BYTES,
          value.length - WireFormat.HEADER_BYTES, null);
      asWritten = writer.reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw new WireFormatException("Undecodable with its own schema (id " + id + "): " + e, e);
    }
    if (!writer.signable) {
      return new ControlRecord(command, null, null, null);
    }
    Object keyId = asWritten.get(ControlSigning.KEY_ID_FIELD);
    Object signature = asWritten.get(ControlSigning.SIGNATURE_FIELD);
    byte[] signed;
    try {
      signed = ControlSigning.signedBytes(writer.prefix, asWritten);
    } catch (RuntimeException notEncodable) {
      signed = null; // e.g. a writer schema whose signature field cannot be null: nothing verifies
    }
    return new ControlRecord(command, keyId instanceof CharSequence k ? k.toString() : null,
        signature instanceof ByteBuffer b ? bytes(b) : null, signed);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  /** What is derived once per writer schema. */
  private static final class Writer {
    final GenericDatumReader<GenericRecord> reader;
    final boolean signable;
    final byte[] prefix;

    Writer(Schema schema) {
      this.reader = new GenericDatumReader<>(schema, schema, new OrderPreservingData());
      this.signable = schema.getType() == Schema.Type.RECORD && schema.getField(ControlSigning.KEY_ID_FIELD) != null
          && schema.getField(ControlSigning.SIGNATURE_FIELD) != null;
      this.prefix = signable ? ControlSigning.prefix(schema) : null;
    }
  }

  /**
   * Generic data whose maps keep the order they were read in (used by both Avro's reader and its
   * fast reader), so re-encoding a record gives back the writer's bytes: a HashMap would reorder
   * the entries.
   */
  private static final class OrderPreservingData extends GenericData {
    @Override
    public Object newMap(Object old, int size) {
      return new LinkedHashMap<>();
    }
  }
}

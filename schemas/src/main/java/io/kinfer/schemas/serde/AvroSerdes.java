package io.kinfer.schemas.serde;

import io.kinfer.schemas.registry.SchemaRegistry;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Wire-format serdes for the generated record classes. */
public final class AvroSerdes {
  private AvroSerdes() {}

  public static <T extends SpecificRecord> Serde<T> value(SchemaRegistry registry, org.apache.avro.Schema schema) {
    return Serdes.serdeFrom(new AvroWireSerializer<>(registry, schema, false),
        new AvroWireDeserializer<>(registry, schema));
  }
}

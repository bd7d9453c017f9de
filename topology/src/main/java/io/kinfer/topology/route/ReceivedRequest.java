package io.kinfer.topology.route;

import io.kinfer.schemas.InferenceRequest;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A request as decoded plus the exact value bytes it was decoded from: a dead-letter copy repeats
 * those bytes (a re-encoding would change the schema id, drop fields of a newer writer schema and
 * reorder maps).
 */
public record ReceivedRequest(byte[] value, InferenceRequest request) {
  /** Decodes with {@code decoder} and keeps the bytes; a tombstone stays null. */
  public static Deserializer<ReceivedRequest> deserializer(Deserializer<InferenceRequest> decoder) {
    return new Deserializer<>() {
      @Override
      public ReceivedRequest deserialize(String topic, byte[] data) {
        return deserialize(topic, null, data);
      }

      @Override
      public ReceivedRequest deserialize(String topic, Headers headers, byte[] data) {
        return data == null ? null : new ReceivedRequest(data, decoder.deserialize(topic, headers, data));
      }
    };
  }
}

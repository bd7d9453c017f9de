package io.kinfer.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/** Bytes that are not a valid Confluent-framed Avro record; the message says what was wrong. */
public class WireFormatException extends SerializationException {
  public WireFormatException(String message) {
    super(message);
  }

  public WireFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}

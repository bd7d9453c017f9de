package io.kinfer.schemas.serde;

/** Constants of the Confluent Schema Registry wire format. */
public final class WireFormat {
  public static final byte MAGIC = 0;
  /** Magic byte plus the 4-byte schema id. */
  public static final int HEADER_BYTES = 5;

  private WireFormat() {}
}

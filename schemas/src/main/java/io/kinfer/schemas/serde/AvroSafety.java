package io.kinfer.schemas.serde;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Process-wide Avro settings that must be in place before the first record is decoded. Avro 1.12
 * refuses to instantiate classes outside trusted packages, and reads its allocation limits once,
 * so both are set here in code (not left to command-line flags a deployment could forget).
 */
public final class AvroSafety {
  /** Largest bytes field (a raw tensor) accepted before allocation. */
  public static final int MAX_BYTES = 64 * 1024 * 1024;
  /** Largest array or map accepted before allocation. */
  public static final int MAX_COLLECTION_ITEMS = 16 * 1024 * 1024;
  /** Largest string accepted before allocation. */
  public static final int MAX_STRING = 1024 * 1024;

  private static final String TRUSTED = "io.kinfer";

  static {
    setIfAbsent("org.apache.avro.SERIALIZABLE_PACKAGES", TRUSTED);
    setIfAbsent("org.apache.avro.limits.bytes.maxLength", Integer.toString(MAX_BYTES));
    setIfAbsent("org.apache.avro.limits.collectionItems.maxLength", Integer.toString(MAX_COLLECTION_ITEMS));
    setIfAbsent("org.apache.avro.limits.string.maxLength", Integer.toString(MAX_STRING));
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(
        ClassSecurityValidator.getGlobal(), c -> c.getName().startsWith(TRUSTED + ".")));
  }

  private AvroSafety() {}

  /** Idempotent; the work is done once, by the class initializer. */
  public static void ensureConfigured() {
    // class initialization does it
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}

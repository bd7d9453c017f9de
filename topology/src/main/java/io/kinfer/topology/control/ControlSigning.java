package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.serde.AvroSafety;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Ed25519 signatures over control commands, with the JDK's own provider.
 *
 * <p>What is signed is the command <em>as written</em>: its Avro binary encoding under the
 * writer's schema, with the signature field null (so every field is covered, key id included, and
 * also fields the verifying worker's schema does not know). A verifier never re-encodes the command
 * it decoded with its own reader schema — that would make every stored plan fail verification on
 * the first schema change — but takes the writer's schema by the value's schema id and re-derives
 * the writer's bytes from the value itself ({@link ControlRecordDecoder}).
 *
 * <p>The signed message names the writer's schema, so signed bytes cannot be relabelled with
 * another schema id whose schema reads them differently (say PRIMARY and CANARY swapped):
 * <ul>
 *   <li>written with the schema of release 0.1.0 (the only one whose signatures predate this rule):
 *   the bare encoding, exactly what that release signed and verifies. Stored plans keep verifying,
 *   and workers of 0.1.0 accept plans signed by this release during a rolling upgrade. The schema is
 *   implied: this form is accepted only when the value's writer schema is that one.
 *   <li>any other writer schema: {@link #TAG}, the SHA-256 fingerprint of the schema's Parsing
 *   Canonical Form (what decides how the bytes read), then the encoding.
 * </ul>
 * The two forms cannot be confused: a valid encoding of a ControlCommand starts with the
 * non-negative length of its model name, whose zigzag varint's first byte is even; the tag starts
 * with the odd byte 0x01.
 */
public final class ControlSigning {
  static {
    AvroSafety.ensureConfigured(); // the specific writer below must trust ControlCommand
  }

  public static final String ALGORITHM = "Ed25519";
  /** Field names the signature and key id are read from, in any writer's schema. */
  public static final String KEY_ID_FIELD = "keyId";
  public static final String SIGNATURE_FIELD = "signature";
  /**
   * SHA-256 Parsing Canonical Form fingerprint of ControlCommand as released in 0.1.0
   * (schemas/src/test/resources/compat/0.1.0/ControlCommand.avsc). Never change it.
   */
  static final String RELEASED_0_1_0_FINGERPRINT = "09b793351b4c4afda7a477f9d1b7427f6da3e8c04d321288591c68d937379f16";
  static final byte[] TAG = "\u0001kinfer.control.signature.v2\n".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] RELEASED_0_1_0 = HexFormat.of().parseHex(RELEASED_0_1_0_FINGERPRINT);

  private ControlSigning() {}

  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("This JDK has no Ed25519 (Java 15+ does)", e);
    }
  }

  /**
   * A copy of {@code command} carrying {@code keyId} and a signature by {@code key}, for writing
   * with {@link ControlCommand#getClassSchema()} (as {@code ops ctl} does).
   */
  public static ControlCommand sign(ControlCommand command, String keyId, PrivateKey key) {
    ControlCommand unsigned = ControlCommand.newBuilder(command).setKeyId(keyId).setSignature(null).build();
    Schema schema = ControlCommand.getClassSchema();
    byte[] signature = signature(key, keyId, message(prefix(schema), encode(unsigned, new SpecificDatumWriter<>(schema))));
    return ControlCommand.newBuilder(unsigned).setSignature(ByteBuffer.wrap(signature)).build();
  }

  /**
   * A copy of {@code command} carrying {@code keyId} and a signature by {@code key}, for writing
   * with {@code command.getSchema()}; for tools (and tests) that write another schema version.
   */
  public static GenericRecord sign(GenericRecord command, String keyId, PrivateKey key) {
    if (!(command instanceof GenericData.Record record)) {
      throw new IllegalArgumentException("A generic record is needed (not a generated class): "
          + command.getClass().getName());
    }
    Schema schema = command.getSchema();
    GenericData.Record signed = new GenericData.Record(record, false); // shallow: maps keep their order
    signed.put(KEY_ID_FIELD, keyId);
    signed.put(SIGNATURE_FIELD, null);
    byte[] unsigned = encode(signed, new GenericDatumWriter<>(schema, new GenericData()));
    signed.put(SIGNATURE_FIELD, ByteBuffer.wrap(signature(key, keyId, message(prefix(schema), unsigned))));
    return signed;
  }

  /**
   * The bytes a signature covers, from a command decoded with its own writer's schema (no
   * resolution): that schema's {@link #prefix} and the command's encoding with the signature null.
   */
  static byte[] signedBytes(byte[] prefix, GenericRecord asWritten) {
    GenericData.Record unsigned = new GenericData.Record((GenericData.Record) asWritten, false);
    unsigned.put(SIGNATURE_FIELD, null);
    return message(prefix, encode(unsigned, new GenericDatumWriter<>(asWritten.getSchema(), new GenericData())));
  }

  /** What precedes the encoding in the signed message for commands written with {@code writer}. */
  static byte[] prefix(Schema writer) {
    byte[] fingerprint;
    try {
      fingerprint = SchemaNormalization.parsingFingerprint("SHA-256", writer);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    if (Arrays.equals(fingerprint, RELEASED_0_1_0)) {
      return new byte[0];
    }
    byte[] prefix = Arrays.copyOf(TAG, TAG.length + fingerprint.length);
    System.arraycopy(fingerprint, 0, prefix, TAG.length, fingerprint.length);
    return prefix;
  }

  /** Whether {@code signature} is valid for {@code signedBytes} and {@code key}. */
  public static boolean verify(byte[] signedBytes, byte[] signature, PublicKey key) {
    if (signature == null) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(signedBytes);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] signature(PrivateKey key, String keyId, byte[] message) {
    try {
      Signature signer = Signature.getInstance(ALGORITHM);
      signer.initSign(key);
      signer.update(message);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("Cannot sign with key " + keyId + ": " + e.getMessage(), e);
    }
  }

  private static byte[] message(byte[] prefix, byte[] encoding) {
    byte[] message = Arrays.copyOf(prefix, prefix.length + encoding.length);
    System.arraycopy(encoding, 0, message, prefix.length, encoding.length);
    return message;
  }

  private static <T> byte[] encode(T datum, org.apache.avro.io.DatumWriter<T> writer) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      writer.write(datum, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String encodePublic(PublicKey key) {
    return Base64.getEncoder().encodeToString(key.getEncoded());
  }

  public static String encodePrivate(PrivateKey key) {
    return Base64.getEncoder().encodeToString(key.getEncoded());
  }

  public static PublicKey decodePublic(String base64) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.trim())));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("Not an Ed25519 public key (base64 X.509 expected): " + e.getMessage(), e);
    }
  }

  public static PrivateKey decodePrivate(String base64) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64.trim())));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("Not an Ed25519 private key (base64 PKCS#8 expected): " + e.getMessage(), e);
    }
  }
}

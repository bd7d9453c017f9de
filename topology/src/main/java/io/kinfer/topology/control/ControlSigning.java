package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Ed25519 signatures over control commands, with the JDK's own provider. What is signed is the Avro
 * binary encoding of the command with its signature field cleared (deterministic for equal
 * commands), so every field, key id included, is covered.
 */
public final class ControlSigning {
  public static final String ALGORITHM = "Ed25519";

  private ControlSigning() {}

  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("This JDK has no Ed25519 (Java 15+ does)", e);
    }
  }

  /** A copy of {@code command} carrying {@code keyId} and a signature by {@code key}. */
  public static ControlCommand sign(ControlCommand command, String keyId, PrivateKey key) {
    ControlCommand unsigned = ControlCommand.newBuilder(command).setKeyId(keyId).setSignature(null).build();
    try {
      Signature signer = Signature.getInstance(ALGORITHM);
      signer.initSign(key);
      signer.update(canonicalBytes(unsigned));
      return ControlCommand.newBuilder(unsigned).setSignature(ByteBuffer.wrap(signer.sign())).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("Cannot sign with key " + keyId + ": " + e.getMessage(), e);
    }
  }

  /** Whether the signature on {@code command} is valid for {@code key}. */
  public static boolean verify(ControlCommand command, PublicKey key) {
    if (command.getSignature() == null) {
      return false;
    }
    ByteBuffer sig = command.getSignature().duplicate();
    byte[] signature = new byte[sig.remaining()];
    sig.get(signature);
    try {
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(canonicalBytes(ControlCommand.newBuilder(command).setSignature(null).build()));
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  static byte[] canonicalBytes(ControlCommand unsigned) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      new SpecificDatumWriter<>(ControlCommand.class).write(unsigned, encoder);
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

package io.kinfer.client.control;

import io.kinfer.topology.control.ControlSigning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;

/**
 * An operator's Ed25519 key pair on disk: {@code <id>.key} (base64 PKCS#8, owner-only) signs
 * control commands; {@code <id>.pub} (base64 X.509) goes into the workers' trusted keys.
 */
public final class OperatorKey {
  public static final String PRIVATE_SUFFIX = ".key";
  public static final String PUBLIC_SUFFIX = ".pub";

  private OperatorKey() {}

  /** Creates the pair in {@code dir} unless it exists; returns the private key file. */
  public static Path ensure(Path dir, String id) throws IOException {
    Path privateFile = dir.resolve(id + PRIVATE_SUFFIX);
    if (Files.exists(privateFile)) {
      return privateFile;
    }
    Files.createDirectories(dir);
    KeyPair pair = ControlSigning.generate();
    Files.writeString(dir.resolve(id + PUBLIC_SUFFIX), ControlSigning.encodePublic(pair.getPublic()) + "\n");
    Files.writeString(privateFile, ControlSigning.encodePrivate(pair.getPrivate()) + "\n");
    try {
      Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; the file is still only as readable as its directory
    }
    return privateFile;
  }

  public static PrivateKey readPrivate(Path file) throws IOException {
    return ControlSigning.decodePrivate(Files.readString(file));
  }

  /** The key id of a key file: its name without the suffix. */
  public static String idOf(Path file) {
    return file.getFileName().toString().replaceFirst("\\.(key|pub)$", "");
  }
}

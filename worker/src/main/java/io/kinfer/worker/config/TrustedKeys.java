package io.kinfer.worker.config;

import io.kinfer.topology.control.ControlSigning;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/** The Ed25519 public keys whose control commands this worker obeys, by key id. */
public final class TrustedKeys {
  private TrustedKeys() {}

  public static Map<String, PublicKey> load(WorkerConfig config) {
    Map<String, PublicKey> keys = new HashMap<>();
    for (String entry : config.getList(WorkerConfig.CONTROL_TRUSTED_KEYS_CONFIG)) {
      String[] parts = entry.split("=", 2);
      if (parts.length != 2) {
        throw new ConfigException(WorkerConfig.CONTROL_TRUSTED_KEYS_CONFIG, entry, "expected keyId=base64PublicKey");
      }
      keys.put(parts[0].trim(), decode(WorkerConfig.CONTROL_TRUSTED_KEYS_CONFIG, parts[1]));
    }
    String dir = config.getString(WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG);
    if (!dir.isBlank()) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(dir), "*.pub")) {
        for (Path file : files) {
          String id = file.getFileName().toString().replaceFirst("\\.pub$", "");
          keys.put(id, decode(WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG, Files.readString(file)));
        }
      } catch (IOException e) {
        throw new ConfigException(WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG, dir, "unreadable: " + e.getMessage());
      }
    }
    return keys;
  }

  private static PublicKey decode(String key, String value) {
    try {
      return ControlSigning.decodePublic(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, value, e.getMessage());
    }
  }
}

package io.kinfer.ops.devstack;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Credentials of a secured dev stack: a random password per user (kept in {@code <user>.password},
 * owner-only, so a restart with the same data dir finds them) and a ready-to-use Kafka client
 * properties file per user ({@code <user>.properties}, for {@code ops ctl --client-config}).
 */
final class SaslUsers {
  private static final SecureRandom RANDOM = new SecureRandom();

  private SaslUsers() {}

  static Map<String, String> ensure(Path dir, List<String> users) throws IOException {
    Files.createDirectories(dir);
    Map<String, String> out = new LinkedHashMap<>();
    for (String user : users) {
      Path file = dir.resolve(user + ".password");
      if (!Files.exists(file)) {
        byte[] secret = new byte[18];
        RANDOM.nextBytes(secret);
        Files.writeString(file, Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
        ownerOnly(file);
      }
      out.put(user, Files.readString(file).trim());
    }
    return out;
  }

  static void writeClientConfigs(Path dir, EmbeddedKafka kafka) throws IOException {
    for (String user : DevStack.SASL_USERS) {
      Properties props = new Properties();
      kafka.clientConfig(user).forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
      Path file = dir.resolve(user + ".properties");
      try (Writer out = Files.newBufferedWriter(file)) {
        props.store(out, "Kafka client settings of SCRAM user " + user + " on the kinfer dev stack");
      }
      ownerOnly(file);
    }
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }
}

package io.kinfer.client.security;

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
 * Credentials of a secured cluster: a random password per user (kept in {@code <user>.password},
 * owner-only, so a restart with the same directory finds them) and ready-to-use properties files
 * ({@code <user>.properties}, for {@code --client-config} or the worker's config file).
 */
public final class SaslUsers {
  private static final SecureRandom RANDOM = new SecureRandom();

  private SaslUsers() {}

  /** The password of each user, made up (and stored) the first time a user is seen. */
  public static Map<String, String> ensure(Path dir, List<String> users) throws IOException {
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

  /** Writes {@code settings} as {@code dir/<name>.properties}, readable by its owner only. */
  public static Path writeProperties(Path dir, String name, Map<String, ?> settings, String comment)
      throws IOException {
    Properties props = new Properties();
    settings.forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
    Path file = dir.resolve(name + ".properties");
    try (Writer out = Files.newBufferedWriter(file)) {
      props.store(out, comment);
    }
    ownerOnly(file);
    return file;
  }

  /** A SCRAM login for {@code user}; passwords with a double quote cannot be expressed in JAAS. */
  public static String scramJaas(String user, String password) {
    if (password.contains("\"") || user.contains("\"")) {
      throw new IllegalArgumentException("SCRAM user names and passwords must not contain '\"' (user " + user + ")");
    }
    return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
        + "\" password=\"" + password + "\";";
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
  }
}

package io.kinfer.client.security;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** Kafka client settings from a properties file ({@code --client-config}) plus a bootstrap fallback. */
public final class ClientSettings {
  private ClientSettings() {}

  /**
   * Settings of a consumer that is assigned partitions (no group, nothing committed) and sees only
   * committed transactions, as every reader of the worker's outputs must.
   */
  public static Map<String, Object> committedReader(Map<String, Object> client) {
    Map<String, Object> config = new HashMap<>(client);
    config.put("isolation.level", "read_committed");
    config.put("enable.auto.commit", false);
    config.remove("group.id");
    return config;
  }

  /**
   * @param file security.protocol, sasl.*, ssl.* (e.g. written by {@code ops security init}); null = none
   * @param bootstrap used unless the file names bootstrap.servers itself
   */
  public static Map<String, Object> load(Path file, String bootstrap) throws IOException {
    Map<String, Object> out = new HashMap<>();
    if (file != null) {
      Properties props = new Properties();
      try (Reader in = Files.newBufferedReader(file)) {
        props.load(in);
      }
      props.forEach((k, v) -> out.put(k.toString(), v));
    }
    out.putIfAbsent("bootstrap.servers", bootstrap);
    return out;
  }
}

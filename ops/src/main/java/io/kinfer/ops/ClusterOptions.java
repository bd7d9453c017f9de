package io.kinfer.ops;

import io.kinfer.client.security.ClientSettings;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where the cluster is and how to log in: the options every client command of {@code ops} shares. */
public final class ClusterOptions {
  @Option(names = "--bootstrap", defaultValue = "127.0.0.1:9092", description = "Kafka (default: ${DEFAULT-VALUE})")
  public String bootstrap;

  @Option(names = "--registry", defaultValue = "http://127.0.0.1:8081", description = "Schema Registry (default: ${DEFAULT-VALUE})")
  public String registry;

  @Option(names = "--client-config", description = "Kafka client properties (security.protocol, sasl.*, ssl.*)")
  public Path clientConfig;

  /** Bootstrap plus the client properties file, for a secured cluster. */
  public Map<String, Object> kafka() throws IOException {
    return ClientSettings.load(clientConfig, bootstrap);
  }

  public RestSchemaRegistryClient schemaRegistry() {
    return new RestSchemaRegistryClient(registry);
  }
}

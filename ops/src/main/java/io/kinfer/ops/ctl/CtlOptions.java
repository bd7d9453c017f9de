package io.kinfer.ops.ctl;

import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.OperatorKey;
import io.kinfer.ops.ClusterOptions;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Connection and signing options shared by every {@code ops ctl} command. */
public final class CtlOptions {
  @Mixin ClusterOptions cluster;

  @Option(names = "--key", description = "private key file that signs the command (ops keys generate)")
  Path key;

  @Option(names = "--key-id", description = "key id the workers trust; default: the key file's name")
  String keyId;

  @Option(names = "--issuer", defaultValue = "${sys:user.name}", description = "who issues the command")
  String issuer;

  @Option(names = "--control-topic", defaultValue = Topics.DEFAULT_CONTROL)
  String controlTopic;

  @Option(names = "--json", description = "machine-readable output")
  boolean json;

  java.util.Map<String, Object> kafka() throws java.io.IOException {
    return cluster.kafka();
  }

  RestSchemaRegistryClient registry() {
    return cluster.schemaRegistry();
  }

  Topics topics() {
    Topics d = Topics.defaults();
    return new Topics(d.requests(), d.predictions(), d.deadLetters(), d.shadow(), d.comparisons(), controlTopic,
        d.status());
  }

  ControlClient client() throws Exception {
    return new ControlClient(kafka(), registry(), topics(),
        key == null ? null : (keyId != null ? keyId : OperatorKey.idOf(key)),
        key == null ? null : OperatorKey.readPrivate(key), issuer);
  }
}

package io.kinfer.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The ops distribution (what the worker image ships) leaves the dev stack out: no Kafka broker
 * classes (not even on the test class path, which holds the runtime one) and no dev commands, which
 * are answered with a hint to kinfer-dev.
 */
class OpsDistributionTest {
  @Test
  void shouldShipNoBroker() {
    assertThatThrownBy(() -> Class.forName("kafka.server.KafkaRaftServer")).isInstanceOf(ClassNotFoundException.class);
    assertThatThrownBy(() -> Class.forName("org.apache.kafka.metadata.properties.MetaProperties"))
        .isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void shouldPointDevCommandsToTheDevDistribution() {
    CommandLine cli = Ops.commandLine();
    assertThat(cli.getSubcommands()).containsKeys("worker", "ctl", "replay", "compare", "load", "models")
        .doesNotContainKeys(Ops.DEV_COMMANDS.toArray(String[]::new));
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("demo")).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(err.toString()).contains("java -jar dev/target/kinfer-dev.jar demo");
    StringWriter typo = new StringWriter();
    cli.setErr(new PrintWriter(typo, true));
    assertThat(cli.execute("ctll")).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(typo.toString()).contains("Unmatched argument").doesNotContain("kinfer-dev");
  }
}

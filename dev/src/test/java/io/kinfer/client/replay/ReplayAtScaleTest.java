package io.kinfer.client.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.dev.EmbeddedKafka;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.ops.Ops;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ops replay} as users run it, in its own JVM: 200,000 requests with the heap capped at
 * 256 MB (streamed, not collected), and Ctrl-C (SIGINT) mid-run leaving a report marked partial.
 */
@Tag("integration")
class ReplayAtScaleTest {
  private static final int N = 200_000;
  private static final String REQUESTS = "scale.requests";
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void shouldReplay200kRequestsIn256MbAndLeaveAPartialReportOnCtrlC() throws Exception {
    InMemorySchemaRegistry schemas = new InMemorySchemaRegistry();
    try (EmbeddedKafka kafka = EmbeddedKafka.startEphemeral();
        EmbeddedSchemaRegistry registry = new EmbeddedSchemaRegistry(schemas, "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(kafka.clientConfig("x"))) {
        admin.createTopics(List.of(new NewTopic(REQUESTS, 4, (short) 1))).all().get();
      }
      ReplayFixture.writeModels(dir.resolve("models"));
      ReplayFixture.produceRequests(kafka.clientConfig("x"), schemas, REQUESTS, N);
      List<String> common = List.of("replay", "--bootstrap", kafka.bootstrapServers(), "--registry", registry.url(),
          "--topic", REQUESTS, "--models", dir.resolve("models").toString(), "--candidate", "lin:2",
          "--baseline", "lin:1");

      Process full = start(common, List.of("--out", dir.resolve("full").toString()), "full.log");
      assertThat(full.waitFor(5, TimeUnit.MINUTES)).isTrue();
      assertThat(full.exitValue()).as(Files.readString(dir.resolve("full.log"))).isZero();
      JsonNode report = JSON.readTree(dir.resolve("full/report.json").toFile());
      assertThat(report.at("/comparisons/0/compared").asLong()).isEqualTo(N);
      assertThat(Files.lines(dir.resolve("full/disagreements.jsonl")).count())
          .isEqualTo(ReplayFixture.differing(0, N, i -> true).size());
      assertThat(Files.readString(dir.resolve("full.log"))).contains("records (100.0%)");

      // One row per engine call makes the run long enough to interrupt after its first progress line.
      Process interrupted = start(common, List.of("--out", dir.resolve("partial").toString(), "--batch-size", "1"),
          "partial.log");
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(10))
          .until(() -> Files.readString(dir.resolve("partial.log")).contains("ETA"));
      // Frozen first, so the run cannot finish between the check below and the Ctrl-C.
      signal(interrupted, "-STOP");
      assertThat(interrupted.isAlive()).as("still replaying when frozen").isTrue();
      assertThat(Files.readString(dir.resolve("partial.log"))).as("still replaying when frozen")
          .doesNotContain("records (100.0%)");
      signal(interrupted, "-INT");
      signal(interrupted, "-CONT");
      assertThat(interrupted.waitFor(2, TimeUnit.MINUTES)).isTrue();
      assertThat(interrupted.exitValue()).as("SIGINT exit status").isEqualTo(130);
      JsonNode partial = JSON.readTree(dir.resolve("partial/report.json").toFile());
      assertThat(partial.get("partial").asBoolean()).isTrue();
      long compared = partial.at("/comparisons/0/compared").asLong();
      assertThat(compared).isPositive().isLessThan(N);
      assertThat(partial.at("/source/read").asLong()).isLessThan(N);
      assertThat(Files.readString(dir.resolve("partial/report.html"))).contains("PARTIAL REPORT");
    }
  }

  private static void signal(Process process, String signal) throws Exception {
    assertThat(new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor())
        .as("kill " + signal).isZero();
  }

  private Process start(List<String> common, List<String> extra, String log) throws Exception {
    // A shell that starts a build in the background starts it with SIGINT ignored, the children
    // inherit that, and a JVM does not handle a signal ignored at its start: Ctrl-C would be lost
    // (seen as exit 0 under `bash .ci/run &`). env resets it to the default (coreutils >= 8.31).
    List<String> command = new ArrayList<>(List.of("env", "--default-signal=INT",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), Ops.class.getName()));
    command.addAll(common);
    command.addAll(extra);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve(log).toFile());
    builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
    return builder.start();
  }
}

package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ops bench} end to end at toy sizes, the way docs/BENCHMARKS.md runs it: isolated workers
 * with the profiler, and the stream-thread/merging rows. Checks that every row is measured and
 * written, not the numbers (those only mean something at full size, side by side in one run).
 */
/** Starts brokers and child worker JVMs: an integration test. */
@Tag("integration")
class BenchCommandTest {
  @Test
  void isolatedProfiledRunWritesEveryRow(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bench.json");
    int exit = new CommandLine(new BenchCommand()).execute("--e2e-requests", "3000", "--batch-sizes", "1,8",
        "--engine-seconds", "0.2", "--e2e-batch-sizes", "8", "--no-baseline", "--no-int8", "--threads", "2",
        "--isolate", "--profile", "--out", out.toString());

    assertThat(exit).isZero();
    JsonNode results = new ObjectMapper().readTree(out.toFile());
    assertThat(results.at("/engine_rows_per_s/8").asDouble()).isPositive();
    JsonNode e2e = results.get("e2e");
    for (String row : new String[] {"max_batch_size_8_rps", "threads_2_rps", "threads_2_merged_rps",
        "pass_through_no_op_engine_rps", "raw_consume_produce_rps"}) {
      assertThat(e2e.path(row).asDouble()).as(row).isPositive();
    }
    JsonNode passThrough = results.at("/cpu/passthrough");
    assertThat(passThrough.path("child_cpu_ms_per_1000").asDouble()).isPositive();
    assertThat(passThrough.at("/profile/stream_thread_wall_by_step_pct").size()).isPositive();
    assertThat(Files.exists(dir.resolve("profiles").resolve("passthrough.jfr"))).isTrue();
  }
}

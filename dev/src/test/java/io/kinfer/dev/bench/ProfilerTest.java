package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench --profile: the agent runs in a child JVM, and its samples are summed by thread and step. */
class ProfilerTest {
  /** Child JVM: a busy "stream thread" and a busy producer I/O thread named after it, for 3 s. */
  public static final class Busy {
    static volatile double sink;

    public static void main(String[] args) throws Exception {
      Thread stream = new Thread(Busy::spin, "app-1-StreamThread-1");
      Thread producer = new Thread(Busy::spin, "kafka-producer-network-thread | app-1-StreamThread-1-producer");
      stream.start();
      producer.start();
      stream.join();
      producer.join();
    }

    static void spin() {
      long end = System.currentTimeMillis() + 3_000;
      while (System.currentTimeMillis() < end) {
        for (int i = 1; i < 10_000; i++) {
          sink += Math.sqrt(i);
        }
      }
    }
  }

  @Test
  void attributesTheStreamThreadsTimeToWhatItRan(@TempDir Path dir) throws Exception {
    Path jfr = dir.resolve("profiles").resolve("busy.jfr");
    Instant start = Instant.now();
    // Profiler.jvmArgs is what bench --profile adds to each measured child.
    try (ChildJvm child = ChildJvm.start(Busy.class, List.of(), withProfiler(dir, jfr), dir.resolve("busy.log"))) {
      child.process().waitFor();
    }

    assertThat(jfr).exists();
    Map<String, Object> summary = Profiler.summarize(jfr, start, Instant.now());

    @SuppressWarnings("unchecked")
    Map<String, Double> wall = (Map<String, Double>) summary.get("stream_thread_wall_by_step_pct");
    assertThat(wall).containsKey("kinfer processors (route, batch, infer, publish, metrics)");
    assertThat(wall.get("kinfer processors (route, batch, infer, publish, metrics)")).isGreaterThan(80.0);
    @SuppressWarnings("unchecked")
    Map<String, Double> cpu = (Map<String, Double>) summary.get("cpu_by_thread_pct");
    // CPU samples need perf events (or the timer fallback). The producer's thread carries its
    // stream thread's name and must still count apart.
    if (!cpu.isEmpty()) {
      assertThat(cpu.getOrDefault("stream thread", 0.0)).isBetween(25.0, 75.0);
      assertThat(cpu.getOrDefault("producer I/O thread", 0.0)).isBetween(25.0, 75.0);
    }
  }

  private static List<String> withProfiler(Path dir, Path jfr) throws Exception {
    List<String> options = new java.util.ArrayList<>(List.of("-Xmx64m"));
    options.addAll(Profiler.jvmArgs(dir, jfr));
    return options;
  }
}

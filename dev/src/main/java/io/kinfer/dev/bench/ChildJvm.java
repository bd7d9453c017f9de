package io.kinfer.dev.bench;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A measured process in a JVM of its own, as it runs in production: its heap, GC and JIT are not
 * shared with the broker and the load generator of the bench JVM. Output is appended to a log file.
 */
final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Path log;

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static ChildJvm start(Class<?> main, List<String> args, String heap, Path log) throws IOException {
    return start(main, args, List.of(heap), log);
  }

  /** @param jvmOptions the heap flag and any other JVM options (e.g. a profiling agent) */
  static ChildJvm start(Class<?> main, List<String> args, List<String> jvmOptions, Path log) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
    return new ChildJvm(builder.start(), log);
  }

  /** Writes {@code settings} as a properties file (for WorkerMain and friends). */
  static Path properties(Path file, Map<String, Object> settings) throws IOException {
    Properties props = new Properties();
    settings.forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
    try (Writer w = Files.newBufferedWriter(file)) {
      props.store(w, "bench child");
    }
    return file;
  }

  Process process() {
    return process;
  }

  /** CPU time the child has used so far (user + system), from the OS. */
  java.time.Duration cpu() {
    return cpu(process.toHandle());
  }

  /** CPU time {@code process} has used so far (user + system), from the OS; zero where unknown. */
  static java.time.Duration cpu(ProcessHandle process) {
    return process.info().totalCpuDuration().orElse(java.time.Duration.ZERO);
  }

  Path log() {
    return log;
  }

  /** Fails with the log's location if the child died. */
  void checkAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException("The child JVM exited (" + process.exitValue() + "); see " + log);
    }
  }

  /** Waits for a child that ends by itself and returns its last line starting with {@code prefix}. */
  String awaitResult(String prefix, long timeoutMs) throws Exception {
    if (!process.waitFor(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("The child JVM did not finish cleanly; see " + log);
    }
    String result = null;
    for (String line : Files.readAllLines(log)) {
      if (line.startsWith(prefix)) {
        result = line.substring(prefix.length()).trim();
      }
    }
    if (result == null) {
      throw new IllegalStateException("No '" + prefix + "' line from the child JVM; see " + log);
    }
    return result;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor();
  }
}

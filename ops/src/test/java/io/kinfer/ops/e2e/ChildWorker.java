package io.kinfer.ops.e2e;

import io.kinfer.worker.WorkerMain;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A worker in its own JVM ({@link WorkerMain}), so a test can SIGTERM, SIGKILL or SIGSTOP it like an
 * operator or the OOM killer would. Output goes to a log file next to its config.
 */
final class ChildWorker implements AutoCloseable {
  private final Process process;
  private final int httpPort;
  private final Path log;

  private ChildWorker(Process process, int httpPort, Path log) {
    this.process = process;
    this.httpPort = httpPort;
    this.log = log;
  }

  static ChildWorker start(Path dir, String name, Map<String, Object> config) throws IOException {
    return start(dir, name, config, "-Xmx512m");
  }

  static ChildWorker start(Path dir, String name, Map<String, Object> config, String heap) throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Properties props = new Properties();
    config.forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
    props.setProperty("http.port", Integer.toString(port));
    props.setProperty("worker.id", name);
    Path file = dir.resolve(name + ".properties");
    try (var out = Files.newBufferedWriter(file)) {
      props.store(out, "child worker " + name);
    }
    Path log = dir.resolve(name + ".log");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        heap, "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName(), file.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("ORT_DISABLE_TELEMETRY", "1");
    return new ChildWorker(builder.start(), port, log);
  }

  boolean ready() {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/ready"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Heap in use now, from the worker's own /metrics. */
  double heapUsedBytes() throws IOException, InterruptedException {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    return PrometheusText.parse(body).entrySet().stream()
        .filter(e -> e.getKey().startsWith("jvm_memory_used_bytes{") && e.getKey().contains("area=\"heap\""))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM: the worker's shutdown hook commits and leaves the group. */
  void terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("Worker did not stop within 60 s of SIGTERM; see " + log);
    }
  }

  /** SIGKILL: no shutdown hook, no commit, no goodbye. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the process freezes (as in a long GC pause or a stalled VM) but keeps its sockets. */
  void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT: resumes a paused worker, which must find itself fenced. */
  void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    int rc = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill " + signal + " failed with " + rc);
    }
  }

  Path log() {
    return log;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}

package io.kinfer.dev.bench;

import io.kinfer.worker.WorkerMain;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A worker in its own JVM ({@link WorkerMain}), so a test or the scale bench can SIGTERM, SIGKILL or
 * SIGSTOP it like an operator, Kubernetes or the OOM killer would. Output goes to a log file next to
 * its config.
 */
public final class WorkerProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();
  private final Process process;
  private final int httpPort;
  private final Path log;

  private WorkerProcess(Process process, int httpPort, Path log) {
    this.process = process;
    this.httpPort = httpPort;
    this.log = log;
  }

  public static WorkerProcess start(Path dir, String name, Map<String, Object> config) throws IOException {
    return start(dir, name, config, "-Xmx512m");
  }

  public static WorkerProcess start(Path dir, String name, Map<String, Object> config, String heap) throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Map<String, Object> settings = new HashMap<>(config);
    settings.put("http.port", port);
    settings.put("worker.id", name);
    Path file = ChildJvm.properties(dir.resolve(name + ".properties"), settings);
    // Appended: a worker restarted under the same name (a pod after a restart) keeps one log.
    ChildJvm jvm = ChildJvm.start(WorkerMain.class, List.of(file.toString()), heap, dir.resolve(name + ".log"));
    return new WorkerProcess(jvm.process(), port, jvm.log());
  }

  public boolean ready() {
    try {
      return HTTP.send(get("/ready"), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The port of the worker's /metrics, /health and /ready. */
  public int httpPort() {
    return httpPort;
  }

  /** The worker's /metrics, series (name with labels) to value. */
  public Map<String, Double> metrics() throws IOException, InterruptedException {
    return PrometheusText.parse(HTTP.send(get("/metrics"), HttpResponse.BodyHandlers.ofString()).body());
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGTERM: the worker's shutdown hook commits and leaves the group. */
  public void terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("Worker did not stop within 60 s of SIGTERM; see " + log);
    }
  }

  /** SIGKILL: no shutdown hook, no commit, no goodbye. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the process freezes (as in a long GC pause or a stalled VM) but keeps its sockets. */
  public void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT: resumes a paused worker, which must find itself fenced. */
  public void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    int rc = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill " + signal + " failed with " + rc);
    }
  }

  public Path log() {
    return log;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}

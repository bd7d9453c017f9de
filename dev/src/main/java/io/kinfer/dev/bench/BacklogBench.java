package io.kinfer.dev.bench;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.DevStack;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.WorkerMain;
import io.kinfer.worker.config.WorkerConfig;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory while draining a large backlog: the worker runs in its own JVM with a capped heap, as in
 * production, and is sampled every second for heap in use (its own /metrics) and resident set size
 * (/proc), so the broker and the load generator in this JVM do not blur the figures.
 */
final class BacklogBench {
  private static final Pattern HEAP_USED = Pattern.compile(
      "^jvm_memory_used_bytes\\{area=\"heap\"\\} ([0-9.eE+]+)$", Pattern.MULTILINE);

  private BacklogBench() {}

  static Map<String, Object> run(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory,
      ModelVersion version, Map<String, Object> workerSettings, long requests, String heap, PrintStream out)
      throws Exception {
    Topics topics = BenchRun.topics("backlog");
    stack.createTopics(topics, 2);
    out.printf("Backlog: producing %,d requests...%n", requests);
    try (LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, topics.requests(), factory)) {
      for (long sent = 0; sent < requests; sent += 100_000) {
        generator.run(sent, Math.min(100_000, requests - sent), 0);
        out.printf("  %,d produced%n", Math.min(requests, sent + 100_000));
      }
    }
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Map<String, Object> settings = BenchRun.workerSettings(workerSettings, "backlog", topics, version);
    settings.put(WorkerConfig.HTTP_PORT_CONFIG, port);
    Path dir = Files.createTempDirectory("kinfer-backlog");
    Path file = ChildJvm.properties(dir.resolve("worker.properties"), stack.workerConfig(settings));
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    double maxHeapMb = 0;
    double maxRssMb = 0;
    List<Map<String, Object>> samples = new ArrayList<>();
    long start;
    long answered;
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, topics.predictions(),
        factory, null)) {
      ChildJvm child = ChildJvm.start(WorkerMain.class, List.of(file.toString()), heap, dir.resolve("worker.log"));
      Process worker = child.process();
      try {
        start = System.currentTimeMillis();
        long deadline = start + 1_800_000;
        long lastPrint = 0;
        while (tracker.answered() < requests) {
          child.checkAlive();
          if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException("Backlog not drained within 30 minutes: " + tracker.answered());
          }
          double heapMb = heapMb(http, port);
          double rssMb = rssMb(worker.pid());
          maxHeapMb = Math.max(maxHeapMb, heapMb);
          maxRssMb = Math.max(maxRssMb, rssMb);
          long t = System.currentTimeMillis() - start;
          samples.add(Map.of("t_ms", t, "answered", tracker.answered(), "heap_mb", heapMb, "rss_mb", rssMb));
          if (t - lastPrint >= 5_000) {
            lastPrint = t;
            out.printf("  %5.0f s  %,9d answered  heap %5.0f MB (max %5.0f)  RSS %5.0f MB (max %5.0f)%n", t / 1000.0,
                tracker.answered(), heapMb, maxHeapMb, rssMb, maxRssMb);
          }
          Thread.sleep(1_000); // a sampling period, not a synchronisation
        }
        answered = tracker.answered();
        if (tracker.duplicates() > 0) {
          throw new IllegalStateException(tracker.duplicates() + " duplicate answers during the backlog drain");
        }
      } finally {
        child.close();
      }
      double seconds = (tracker.lastAtMs() - start) / 1000.0;
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("requests", requests);
      r.put("answered", answered);
      r.put("worker_heap_flag", heap);
      r.put("drain_seconds", seconds);
      r.put("drain_rps", answered / seconds);
      r.put("max_heap_used_mb", maxHeapMb);
      r.put("max_rss_mb", maxRssMb);
      r.put("samples", samples);
      out.printf("  drained %,d in %.0f s (%,.0f/s): worker heap max %.0f MB, RSS max %.0f MB (%s)%n", answered,
          seconds, answered / seconds, maxHeapMb, maxRssMb, heap);
      return r;
    }
  }

  private static double heapMb(HttpClient http, int port) {
    try {
      String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = HEAP_USED.matcher(text);
      return m.find() ? Double.parseDouble(m.group(1)) / (1 << 20) : 0;
    } catch (Exception notUpYet) {
      return 0;
    }
  }

  private static double rssMb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception notLinux) {
      // no /proc: RSS not sampled
    }
    return 0;
  }
}

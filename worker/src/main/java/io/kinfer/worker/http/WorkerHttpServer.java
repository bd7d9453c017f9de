package io.kinfer.worker.http;

import com.codahale.metrics.MetricRegistry;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The worker's HTTP side: {@code /metrics} (Prometheus text: the pipeline's Dropwizard registry via
 * the Prometheus bridge, Kafka Streams client metrics, JVM metrics), {@code /health} (200 while the
 * worker can serve) and {@code /ready} (200 once Streams is RUNNING and every version of every plan
 * in force is loaded).
 */
public final class WorkerHttpServer implements AutoCloseable {
  /** What /health and /ready report. */
  public interface Probe {
    KafkaStreams.State state();

    /** Null when every version the plans in force name is loaded, else what is missing. */
    String missingVersions();

    /** Null when the engine can serve, else why not. */
    String engineProblem();
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "worker-http");
    t.setDaemon(true);
    return t;
  });
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Probe probe;

  public WorkerHttpServer(String host, int port, MetricRegistry metrics, KafkaStreams streams, Probe probe)
      throws IOException {
    this.probe = probe;
    registry.register(new PipelineExports(metrics));
    registry.register(new KafkaClientMetrics(streams::metrics));
    JvmMetrics.builder().register(registry);
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/metrics", this::metrics);
    server.createContext("/health", e -> probe(e, this::health));
    server.createContext("/ready", e -> probe(e, this::ready));
    server.setExecutor(executor);
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void metrics(HttpExchange exchange) throws IOException {
    try (exchange) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
      exchange.getResponseHeaders().set("Content-Type", PrometheusTextFormatWriter.CONTENT_TYPE);
      exchange.sendResponseHeaders(200, out.size());
      exchange.getResponseBody().write(out.toByteArray());
    }
  }

  private String health() {
    KafkaStreams.State state = probe.state();
    if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
        || state == KafkaStreams.State.NOT_RUNNING || state == KafkaStreams.State.PENDING_SHUTDOWN) {
      return "Kafka Streams is " + state;
    }
    return probe.engineProblem();
  }

  private String ready() {
    String unhealthy = health();
    if (unhealthy != null) {
      return unhealthy;
    }
    if (probe.state() != KafkaStreams.State.RUNNING) {
      return "Kafka Streams is " + probe.state();
    }
    return probe.missingVersions();
  }

  private static void probe(HttpExchange exchange, Supplier<String> check) throws IOException {
    try (exchange) {
      String problem = check.get();
      byte[] body = (problem == null ? "OK\n" : problem + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(problem == null ? 200 : 503, body.length);
      exchange.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}

package io.kinfer.dev.bench;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.DevStack;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Open-loop latency at fixed shares of measured capacity. Each request's record timestamp is its
 * intended send time (the generator's schedule, not when it got round to sending), and latency is
 * taken when the answer is visible to a read_committed consumer, so a stall anywhere shows up in
 * full (no coordinated omission).
 */
final class LatencyBench {
  /** One load level: offered and answered rates, latency percentiles in milliseconds. */
  record Point(double fraction, double offeredRps, double answeredRps, long requests, long p50, long p90, long p99,
      long p999, long max, double meanBatch, long publishedP50, long publishedP99, long visibleP50, long visibleP99) {
    Map<String, Object> toMap() {
      Map<String, Object> m = new java.util.LinkedHashMap<>();
      m.put("fraction_of_capacity", fraction);
      m.put("offered_rps", offeredRps);
      m.put("answered_rps", answeredRps);
      m.put("requests", requests);
      m.put("p50_ms", p50);
      m.put("p90_ms", p90);
      m.put("p99_ms", p99);
      m.put("p999_ms", p999);
      m.put("max_ms", max);
      m.put("mean_batch", meanBatch);
      m.put("until_published_p50_ms", publishedP50);
      m.put("until_published_p99_ms", publishedP99);
      m.put("published_to_visible_p50_ms", visibleP50);
      m.put("published_to_visible_p99_ms", visibleP99);
      return m;
    }
  }

  private LatencyBench() {}

  /**
   * @param label names this run's topics and application id (several runs share one broker)
   * @param isolateDir null: the worker runs in this JVM; else in a JVM of its own (as deployed), with
   *     its settings and log in this directory and a longer warm-up for its JIT
   */
  static List<Point> run(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, ModelVersion version,
      Map<String, Object> workerOverrides, double capacity, double[] fractions, double secondsEach, String label,
      Path isolateDir, PrintStream out) throws Exception {
    Topics topics = BenchRun.topics(label);
    stack.createTopics(topics, 2);
    Map<String, Object> settings = BenchRun.workerSettings(workerOverrides, label, topics, version);
    List<Point> points = new ArrayList<>();
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, topics.predictions(),
            factory, null);
        LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, topics.requests(), factory);
        AutoCloseable worker = BenchRun.startWorker(stack.workerConfig(settings), isolateDir, label)) {
      long sent = 0;
      // Warm-up (JIT, connections, first transactions), not measured. A fresh JVM's JIT keeps
      // compiling for tens of seconds under load, so an isolated worker gets 20 s at half load.
      double warmRate = capacity * (isolateDir == null ? 0.25 : 0.5);
      long warm = (long) (warmRate * (isolateDir == null ? Math.min(5, secondsEach) : 20));
      generator.run(sent, warm, warmRate);
      sent += warm;
      awaitAnswered(tracker, sent);
      for (double fraction : fractions) {
        double rate = capacity * fraction;
        long n = Math.max(1, (long) (rate * secondsEach));
        tracker.resetStatistics();
        long start = System.currentTimeMillis();
        generator.run(sent, n, rate);
        sent += n;
        awaitAnswered(tracker, sent);
        double answeredRps = n / Math.max(1e-3, (tracker.lastAtMs() - start) / 1000.0);
        Histogram h = tracker.totalLatency();
        Histogram[] halves = tracker.latencyHalves();
        Point p = new Point(fraction, rate, answeredRps, n, h.getValueAtPercentile(50), h.getValueAtPercentile(90),
            h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(), tracker.meanBatchSize(),
            halves[0].getValueAtPercentile(50), halves[0].getValueAtPercentile(99), halves[1].getValueAtPercentile(50),
            halves[1].getValueAtPercentile(99));
        points.add(p);
        out.printf("  %3.0f%% of capacity: offered %,7.0f/s answered %,7.0f/s  p50 %4d  p90 %4d  p99 %4d  p99.9 %4d"
            + "  max %4d ms  (mean batch %.1f)%n      until published p50 %d p99 %d ms; published to visible"
            + " p50 %d p99 %d ms%n", fraction * 100, rate, answeredRps, p.p50(), p.p90(), p.p99(), p.p999(), p.max(),
            p.meanBatch(), p.publishedP50(), p.publishedP99(), p.visibleP50(), p.visibleP99());
      }
      if (tracker.duplicates() > 0) {
        throw new IllegalStateException("Latency run saw " + tracker.duplicates() + " duplicate answers");
      }
    }
    return points;
  }

  private static void awaitAnswered(PredictionTracker tracker, long count) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 180_000;
    while (tracker.answered() < count) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("Only " + tracker.answered() + " of " + count + " answered within 180 s");
      }
      Thread.sleep(20); // polling a counter fed by the tracker's own thread
    }
  }
}

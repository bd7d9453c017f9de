package io.kinfer.dev.bench;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.topology.InferenceTopology;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.control.CommandVerifier;
import io.kinfer.topology.control.ControlEvents;
import io.kinfer.topology.control.ControlPlane;
import io.kinfer.topology.control.PlanPreparer;
import io.kinfer.topology.route.Plan;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.worker.config.StreamsProperties;
import io.kinfer.worker.config.WorkerConfig;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The worker's topology, serdes and exactly-once settings with a no-op engine: the ceiling that
 * Kafka, Streams and Avro alone allow on this machine.
 */
final class PassThrough {
  private PassThrough() {}

  static double drain(WorkerConfig config, SchemaRegistry registry, ModelVersion version, PredictionTracker tracker,
      long count) throws InterruptedException {
    try (KafkaStreams streams = start(config, registry, version)) {
      while (streams.state() != KafkaStreams.State.RUNNING) {
        Thread.sleep(20); // polling a state; nothing to synchronise on
      }
      long start = System.currentTimeMillis();
      long deadline = start + 600_000;
      while (tracker.answered() < count && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      streams.close(Duration.ofSeconds(30));
      return count / ((tracker.lastAtMs() - start) / 1000.0);
    }
  }

  /** Starts the pass-through topology (for {@link #drain} or a {@link BenchChild}). */
  static KafkaStreams start(WorkerConfig config, SchemaRegistry registry, ModelVersion version) {
    NoOpEngine engine = new NoOpEngine(version);
    PlanRoutingTable routes = new PlanRoutingTable(engine::loaded, Map.of());
    PlanPreparer preparer = new PlanPreparer() {
      @Override
      public void prepare(Plan plan) {}

      @Override
      public void retire(Collection<Plan> inForce) {}
    };
    ControlEvents events = new ControlEvents() {
      @Override
      public void applied(Plan plan, At at) {}

      @Override
      public void rejected(String model, long generation, String reason, At at) {}
    };
    String metricsName = "bench-pass-through-" + System.nanoTime();
    KafkaStreams streams = new KafkaStreams(InferenceTopology.build(config.topologyConfig(), engine, routes,
        new ControlPlane(new CommandVerifier(Map.of()), preparer, events), registry,
        new PipelineMetrics(new MetricRegistry())), StreamsProperties.of(config, metricsName));
    streams.start();
    return streams;
  }
}

package io.kinfer.worker.status;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.schemas.LoadedVersion;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.control.ControlEvents;
import io.kinfer.topology.route.Plan;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.worker.engine.LoadedModel;
import io.kinfer.worker.engine.OnnxEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes this worker's {@link ModelStatus} to the status topic (key: worker id): loaded versions
 * with sha256, applied plan generations, and the control events since the last status. Sent at
 * once after each event and every interval otherwise, so operators see what each worker serves.
 */
public final class StatusPublisher implements ControlEvents, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusPublisher.class);

  private final String workerId;
  private final String topic;
  private final OnnxEngine engine;
  private final PlanRoutingTable routes;
  private final MetricRegistry metrics;
  private final KafkaProducer<String, ModelStatus> producer;
  private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "status-publisher");
    t.setDaemon(true);
    return t;
  });

  public StatusPublisher(String workerId, String topic, OnnxEngine engine, PlanRoutingTable routes,
      MetricRegistry metrics, Map<String, Object> producerConfig, SchemaRegistry registry, Duration interval) {
    this.workerId = workerId;
    this.topic = topic;
    this.engine = engine;
    this.routes = routes;
    this.metrics = metrics;
    Map<String, Object> config = new java.util.HashMap<>(producerConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    this.producer = new KafkaProducer<>(config, new StringSerializer(),
        new AvroWireSerializer<>(registry, ModelStatus.getClassSchema(), false));
    scheduler.scheduleAtFixedRate(this::publish, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void applied(Plan plan) {
    metrics.counter(MetricRegistry.name("kinfer.control.applied", PipelineMetrics.part(plan.model()))).inc();
    report("applied " + plan.model() + " generation " + plan.generation() + " " + plan.command().getRoutes());
  }

  @Override
  public void rejected(String model, long generation, String reason) {
    metrics.counter(MetricRegistry.name("kinfer.control.rejected", PipelineMetrics.part(model))).inc();
    report("rejected " + model + " generation " + generation + ": " + reason);
  }

  /** Records a load failure or other event for the next status. */
  public void report(String event) {
    events.add(event);
    scheduler.execute(this::publish);
  }

  private void publish() {
    try {
      List<LoadedVersion> loaded = new ArrayList<>();
      for (ModelVersion mv : engine.loaded()) {
        LoadedModel model = engine.model(mv);
        if (model != null) {
          loaded.add(new LoadedVersion(mv.model(), mv.version(), model.config().sha256()));
        }
      }
      loaded.sort((a, b) -> (a.getModel() + a.getVersion()).compareTo(b.getModel() + b.getVersion()));
      Map<String, Long> generations = new TreeMap<>();
      routes.plans().forEach((model, plan) -> generations.put(model, plan.generation()));
      List<String> drained = new ArrayList<>();
      for (String e = events.poll(); e != null; e = events.poll()) {
        drained.add(e);
      }
      ModelStatus status = ModelStatus.newBuilder().setWorker(workerId).setAt(Instant.now()).setLoaded(loaded)
          .setAppliedGenerations(generations).setEvents(drained).build();
      producer.send(new ProducerRecord<>(topic, workerId, status), (m, e) -> {
        if (e != null) {
          LOG.warn("Cannot publish status to {}: {}", topic, e.getMessage());
        }
      });
    } catch (RuntimeException e) {
      LOG.warn("Cannot publish status: {}", e.toString());
    }
  }

  @Override
  public void close() {
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    publish();
    producer.close(Duration.ofSeconds(5));
  }
}

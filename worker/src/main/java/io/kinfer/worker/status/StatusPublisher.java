package io.kinfer.worker.status;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.schemas.ControlRecordPosition;
import io.kinfer.schemas.LoadedVersion;
import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.ReadToEnd;
import io.kinfer.topology.Topics;
import io.kinfer.topology.control.ControlEvents;
import io.kinfer.topology.control.ControlEvents.At;
import io.kinfer.topology.route.Plan;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.worker.engine.LoadedModel;
import io.kinfer.worker.engine.OnnxEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes this worker's {@link ModelStatus} to the status topic (key: worker id): loaded versions
 * with sha256, applied plan generations, and the control events since the last status. Sent at
 * once after each event and every interval otherwise, so operators see what each worker serves.
 *
 * <p>A restart replays the control topic and rejects every stored bad command again; those
 * rejections were published before and are not published twice: each status carries the
 * positions of the control records whose rejection it or an earlier status published
 * ({@link ReportedRejections}), and a starting worker reads its last status back
 * ({@link #reportedBefore}) before the replay begins.
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
  private final ReportedRejections reported;
  /** Held while an event and its ledger entry are added, and while a status takes both. */
  private final Object lock = new Object();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "status-publisher");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param reportedBefore control records whose rejection this worker id already published (from
   *     {@link #reportedBefore}); their rejections in the replay are not published again
   */
  public StatusPublisher(String workerId, Topics.Spec<ModelStatus> topic, OnnxEngine engine, PlanRoutingTable routes,
      MetricRegistry metrics, Map<String, Object> producerConfig, SchemaRegistry registry, Duration interval,
      Collection<At> reportedBefore) {
    this.reported = new ReportedRejections(reportedBefore);
    this.workerId = workerId;
    this.topic = topic.name();
    this.engine = engine;
    this.routes = routes;
    this.metrics = metrics;
    Map<String, Object> config = new HashMap<>(producerConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    this.producer = new KafkaProducer<>(config, new StringSerializer(), topic.valueSerializer(registry));
    scheduler.scheduleAtFixedRate(this::publish, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the last status this worker id published and returns the control records whose
   * rejection it had published; none if there is no such status or it cannot be read (then a
   * replayed rejection may be published once more, which is logged).
   */
  public static List<At> reportedBefore(Map<String, Object> consumerConfig, Topics.Spec<ModelStatus> spec, String workerId,
      SchemaRegistry registry, Duration timeout) {
    Map<String, Object> config = new HashMap<>(consumerConfig);
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    String topic = spec.name();
    AvroWireDeserializer<ModelStatus> decoder = spec.valueDeserializer(registry);
    ModelStatus last = null;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = ReadToEnd.partitions(consumer, topic, timeout);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      ModelStatus[] newest = new ModelStatus[1];
      ReadToEnd.poll(consumer, end, timeout, topic, r -> {
        if (workerId.equals(r.key()) && r.value() != null) {
          try {
            newest[0] = decoder.deserialize(topic, r.value());
          } catch (RuntimeException notAStatus) {
            LOG.debug("Skipping undecodable status record at offset {}: {}", r.offset(), notAStatus.toString());
          }
        }
      });
      last = newest[0];
    } catch (RuntimeException e) {
      LOG.warn("Cannot read the last status of {} from {} ({}): control commands rejected before this start may"
          + " be reported as rejected once more", workerId, topic, e.toString());
      return List.of();
    }
    List<At> out = new ArrayList<>();
    if (last != null) {
      last.getReportedRejections().forEach(p -> out.add(new At(p.getPartition(), p.getOffset())));
    }
    return out;
  }

  @Override
  public void applied(Plan plan, At at) {
    metrics.counter(MetricRegistry.name("kinfer.control.applied", PipelineMetrics.part(plan.model()))).inc();
    reported.accepted(at);
    report("applied " + plan.model() + " generation " + plan.generation() + " " + plan.command().getRoutes());
  }

  @Override
  public void rejected(String model, long generation, String reason, At at) {
    metrics.counter(MetricRegistry.name("kinfer.control.rejected", PipelineMetrics.part(model))).inc();
    synchronized (lock) {
      if (!reported.rejected(at)) {
        LOG.debug("Rejection of the control record at {} was published before this start; not again", at);
        return;
      }
      events.add("rejected " + model + " generation " + generation + ": " + reason);
    }
    scheduler.execute(this::publish);
  }

  /** Records a load failure or other event for the next status. */
  public void report(String event) {
    synchronized (lock) {
      events.add(event);
    }
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
      List<ControlRecordPosition> rejections = new ArrayList<>();
      synchronized (lock) { // a rejection's event and its ledger entry go out in the same status
        for (String e = events.poll(); e != null; e = events.poll()) {
          drained.add(e);
        }
        reported.all().forEach(at -> rejections.add(new ControlRecordPosition(at.partition(), at.offset())));
      }
      ModelStatus status = ModelStatus.newBuilder().setWorker(workerId).setAt(Instant.now()).setLoaded(loaded)
          .setAppliedGenerations(generations).setEvents(drained).setReportedRejections(rejections).build();
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

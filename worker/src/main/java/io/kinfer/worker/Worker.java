package io.kinfer.worker;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SharedMetricRegistries;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.topology.InferenceTopology;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.TopologyConfig;
import io.kinfer.topology.control.CommandVerifier;
import io.kinfer.topology.control.ControlPlane;
import io.kinfer.topology.infer.EngineHealth;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.topology.infer.MergingEngine;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.worker.config.StreamsProperties;
import io.kinfer.worker.config.TopicSetup;
import io.kinfer.worker.config.TrustedKeys;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineThreads;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.http.MetricNames;
import io.kinfer.worker.http.WorkerHttpServer;
import io.kinfer.worker.lifecycle.JitWarmUp;
import io.kinfer.worker.lifecycle.ModelLifecycle;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import io.kinfer.worker.status.StatusPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running worker: loads every verified model version of the repository, builds the topology
 * and runs it with Kafka Streams. A version that fails to load is reported and never serves.
 */
public final class Worker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

  private final WorkerConfig config;
  private final OnnxEngine engine;
  private final KafkaStreams streams;
  private final MetricRegistry metrics;
  private final PlanRoutingTable routes;
  private final ModelLifecycle lifecycle;
  private final StatusPublisher status;
  private final EngineHealth engineHealth;
  private WorkerHttpServer http;
  /** Where batches run (inference.pipelined), or null when they run on the stream threads. */
  private ExecutorService enginePool;

  private Worker(WorkerConfig config, OnnxEngine engine, KafkaStreams streams, MetricRegistry metrics,
      PlanRoutingTable routes, ModelLifecycle lifecycle, StatusPublisher status,
      EngineHealth engineHealth) {
    this.engineHealth = engineHealth;
    this.config = config;
    this.engine = engine;
    this.streams = streams;
    this.metrics = metrics;
    this.routes = routes;
    this.lifecycle = lifecycle;
    this.status = status;
  }

  public static Worker start(WorkerConfig config) {
    return start(config, new RestSchemaRegistryClient(config.getString(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG)));
  }

  public static Worker start(WorkerConfig config, SchemaRegistry registry) {
    AvroSafety.ensureConfigured();
    // Settings parsed from lists and files fail here, before Kafka is contacted or anything opened.
    TopologyConfig topologyConfig = config.topologyConfig();
    Map<String, String> primaryVersions = config.primaryVersions();
    var trustedKeys = TrustedKeys.load(config);
    try {
      TopicSetup.ensure(config.adminConfig(), config.topics(), config.getBoolean(WorkerConfig.TOPICS_CREATE_CONFIG),
          List.of());
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("Cannot check topics on " + config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG)
          + ": " + e.getMessage(), e);
    }
    ModelRepository repository = new ModelRepository(Path.of(config.getString(WorkerConfig.MODEL_REPOSITORY_CONFIG)),
        config.getLong(WorkerConfig.MODEL_MAX_BYTES_CONFIG));
    OnnxEngine engine = new OnnxEngine(config.engineOptions());
    // What has been opened so far, closed in reverse if a later step fails: a failed start (a bad
    // Kafka setting, a taken port) leaves no sessions, producer or metrics registry behind.
    Deque<AutoCloseable> opened = new ArrayDeque<>();
    opened.push(engine);
    try {
      return start(config, registry, topologyConfig, primaryVersions, trustedKeys, repository, engine, opened);
    } catch (RuntimeException | Error e) {
      closeAll(opened, e);
      throw e;
    }
  }

  private static Worker start(WorkerConfig config, SchemaRegistry registry, TopologyConfig topologyConfig,
      Map<String, String> primaryVersions, Map<String, java.security.PublicKey> trustedKeys, ModelRepository repository,
      OnnxEngine engine, Deque<AutoCloseable> opened) {
    List<String> failures = new ArrayList<>();
    for (ModelVersion version : repository.list()) {
      try {
        engine.load(repository.load(version));
      } catch (ModelLoadException e) {
        LOG.error("Not serving {}: {}", version, e.getMessage());
        failures.add(version + ": " + e.getMessage());
      }
    }
    if (engine.loaded().isEmpty()) {
      throw new ModelLoadException("No model could be loaded from " + repository.root()
          + (failures.isEmpty() ? " (it is empty; run 'ops models generate " + repository.root() + "')" : ": " + failures));
    }
    String workerId = config.workerId();
    warmUp(engine, Duration.ofMillis(config.getLong(WorkerConfig.WARMUP_MS_CONFIG)), workerId);
    String registryName = "kinfer-" + workerId;
    MetricRegistry metrics = SharedMetricRegistries.getOrCreate(registryName);
    opened.push(() -> SharedMetricRegistries.remove(registryName));
    PlanRoutingTable routes = new PlanRoutingTable(engine::loaded, primaryVersions);
    ModelLifecycle lifecycle = new ModelLifecycle(repository, engine,
        Duration.ofMillis(config.getLong(WorkerConfig.MODEL_UNLOAD_GRACE_MS_CONFIG)));
    opened.push(lifecycle);
    // Before Streams replays the control topic: which of its rejections this worker id published already.
    var reportedBefore = StatusPublisher.reportedBefore(config.consumerConfig(), config.topics().statusTopic(), workerId,
        registry, Duration.ofSeconds(30));
    StatusPublisher status = new StatusPublisher(workerId, config.topics().statusTopic(), engine, routes, metrics,
        config.producerConfig(), registry, Duration.ofMillis(config.getLong(WorkerConfig.STATUS_INTERVAL_MS_CONFIG)),
        reportedBefore);
    opened.push(status);
    failures.forEach(f -> status.report("load failed: " + f));
    ControlPlane control = new ControlPlane(new CommandVerifier(trustedKeys), lifecycle, status);
    EngineHealth engineHealth = new EngineHealth();
    InferenceEngine calls = engine;
    if (config.mergeBatches()) {
      MergingEngine merging = new MergingEngine(engine);
      metrics.gauge(MetricNames.ENGINE_BATCHES_PER_CALL, () -> () -> merging.engineCalls() == 0 ? 0.0
          : (double) merging.batches() / merging.engineCalls());
      calls = merging;
    }
    ExecutorService pool = config.getBoolean(WorkerConfig.INFERENCE_PIPELINED_CONFIG)
        ? EngineThreads.start(config.getInt(WorkerConfig.NUM_STREAM_THREADS_CONFIG)) : null;
    if (pool != null) {
      opened.push(pool::shutdown); // after Streams has closed (pushed later, so closed first)
    }
    Executor engineThreads = pool != null ? pool : Runnable::run;
    Topology topology = InferenceTopology.build(topologyConfig, calls, routes, control, registry,
        new PipelineMetrics(metrics), engineHealth, engineThreads);
    KafkaStreams streams = new KafkaStreams(topology, StreamsProperties.of(config, registryName));
    opened.push(() -> streams.close(Duration.ofSeconds(30)));
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("Stream thread failed; replacing it (its tasks resume from the last commit)", e);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.start();
    LOG.info("Worker {} started: serving {} from {}, batches of up to {} or {} ms{}",
        workerId, engine.loaded(), config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG),
        config.maxBatchSize(), config.maxWaitMs(), config.mergeBatches() ? ", merged across stream threads" : "");
    Worker worker = new Worker(config, engine, streams, metrics, routes, lifecycle, status, engineHealth);
    worker.enginePool = pool;
    try {
      worker.http = new WorkerHttpServer(config.getString(WorkerConfig.HTTP_HOST_CONFIG),
          config.getInt(WorkerConfig.HTTP_PORT_CONFIG), metrics, streams, worker.probe());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("Cannot serve /metrics on port " + config.getInt(WorkerConfig.HTTP_PORT_CONFIG)
          + ": " + e.getMessage() + " (set http.port to a free port, or 0)", e);
    }
    LOG.info("Metrics, health and readiness on http://{}:{}/", config.getString(WorkerConfig.HTTP_HOST_CONFIG),
        worker.http.port());
    return worker;
  }

  /** A warm-up that fails costs only speed: the worker starts anyway, and its batches will say what is wrong. */
  private static void warmUp(OnnxEngine engine, Duration budget, String workerId) {
    try {
      JitWarmUp.Report warm = JitWarmUp.run(engine, budget, workerId);
      if (warm.totalBatches() > 0) {
        LOG.info("Warmed up before joining: {} batches, {} requests ({} answered with an error) in {} ms, {} ms of JIT"
            + " compilation; {} requests/s in the first fifth, {} in the last", warm.totalBatches(), warm.requests(),
            warm.failed(), warm.millis(), warm.compilationMillis(), Math.round(warm.coldPerSecond()),
            Math.round(warm.warmPerSecond()));
      }
    } catch (RuntimeException e) {
      LOG.warn("Warm-up stopped, joining without it: {}", e.toString());
    }
  }

  private WorkerHttpServer.Probe probe() {
    return new WorkerHttpServer.Probe() {
      @Override
      public KafkaStreams.State state() {
        return streams.state();
      }

      @Override
      public String missingVersions() {
        List<String> missing = new ArrayList<>();
        routes.plans().values().forEach(plan -> plan.versions().forEach(v -> {
          if (!engine.loaded().contains(new ModelVersion(plan.model(), v))) {
            missing.add(plan.model() + ":" + v);
          }
        }));
        return missing.isEmpty() ? null : "Plan versions not loaded yet: " + missing;
      }

      @Override
      public String engineProblem() {
        if (engine.loaded().isEmpty()) {
          return "No model version is loaded";
        }
        String failing = engineHealth.problem();
        return failing == null ? null : "Inference engine failing: " + failing;
      }
    };
  }

  /** The port of /metrics, /health and /ready. */
  public int httpPort() {
    return http.port();
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  public boolean isRunning() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  public MetricRegistry metrics() {
    return metrics;
  }

  public OnnxEngine engine() {
    return engine;
  }

  public PlanRoutingTable routes() {
    return routes;
  }

  public WorkerConfig config() {
    return config;
  }

  private static void closeAll(Deque<AutoCloseable> opened, Throwable cause) {
    while (!opened.isEmpty()) {
      try {
        opened.pop().close();
      } catch (Exception e) {
        cause.addSuppressed(e);
      }
    }
  }

  @Override
  public void close() {
    // Streams first: it commits what was processed; then the sessions it was using. Leaving the
    // group hands this worker's partitions to the others now, not after the session timeout.
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
    if (enginePool != null) {
      enginePool.shutdown(); // Streams closed its tasks, which waited for their running batches
    }
    status.close();
    lifecycle.close();
    engine.close();
    if (http != null) {
      http.close();
    }
    SharedMetricRegistries.remove("kinfer-" + config.workerId());
  }
}

package io.kinfer.ops.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.ops.devstack.DevStack;
import io.kinfer.ops.load.LoadGenerator;
import io.kinfer.ops.load.PredictionTracker;
import io.kinfer.ops.load.RequestFactory;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ops bench}: ratios measured side by side in one run on this machine. Engine rows/s by batch
 * size, and end-to-end worker throughput draining the same backlog with batching off and on.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmark the engine by batch size and the worker end to end, batching off vs on.")
public final class BenchCommand implements Callable<Integer> {
  @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8,32,128,512")
  int[] batchSizes;

  @Option(names = "--engine-seconds", defaultValue = "2", description = "measuring time per batch size")
  double engineSeconds;

  @Option(names = "--e2e-requests", defaultValue = "30000", description = "backlog drained by each end-to-end run; 0 skips")
  long e2eRequests;

  @Option(names = "--e2e-batch-sizes", split = ",", defaultValue = "1,64", description = "max.batch.size of each end-to-end run")
  int[] e2eBatchSizes;

  @Option(names = "--out", defaultValue = "target/bench.json", description = "JSON results (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--model", defaultValue = "light", description = "light (32-256-256-10, Kafka-bound) or heavy"
      + " (512-2048-2048-2048-10, compute-bound) (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--baseline", negatable = true, defaultValue = "true",
      description = "also drain the backlog with a naive one-request-at-a-time consumer loop")
  boolean baseline;

  private boolean heavy() {
    return "heavy".equals(model);
  }

  private ModelVersion version() {
    return heavy() ? new ModelVersion(SampleModels.HEAVY, "1") : new ModelVersion(SampleModels.MLP, "1");
  }

  private RequestFactory factory(String prefix, long seed) {
    return heavy()
        ? new RequestFactory(prefix, seed, SampleModels.HEAVY, SampleModels.HEAVY_FEATURES)
        : new RequestFactory(prefix, seed);
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
        "java", System.getProperty("java.version"), "os", System.getProperty("os.name") + " " + System.getProperty("os.arch")));
    Path models = Files.createTempDirectory("kinfer-bench-models");
    SampleModels.writeAll(models);
    if (heavy()) {
      SampleModels.writeHeavy(models);
    }
    ModelVersion mlp = version();
    results.put("model", mlp.toString());
    System.out.println("Engine: " + mlp + ", rows/s by batch size");
    Map<Integer, Double> engine;
    try (OnnxEngine onnx = new OnnxEngine(EngineOptions.cpu())) {
      onnx.load(new ModelRepository(models, 1 << 30).load(mlp));
      engine = EngineBench.rowsPerSecond(onnx, mlp, factory("bench", 1), batchSizes, engineSeconds);
    }
    double base = engine.values().iterator().next();
    engine.forEach((size, rps) -> System.out.printf("  batch %4d  %,12.0f rows/s  %6.1fx batch %d%n",
        size, rps, rps / base, batchSizes[0]));
    results.put("engine_rows_per_s", engine);
    if (e2eRequests > 0) {
      results.put("e2e", endToEnd());
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), results);
    System.out.println("Results written to " + out);
    return 0;
  }

  private Map<String, Object> endToEnd() throws Exception {
    Map<String, Object> runs = new LinkedHashMap<>();
    try (DevStack stack = DevStack.start(DevStack.Options.ephemeral(null))) {
      if (heavy()) {
        SampleModels.writeHeavy(stack.modelsDir());
      }
      RestSchemaRegistryClient registry = new RestSchemaRegistryClient(stack.registryUrl());
      RequestFactory factory = factory("e2e", 7);
      System.out.printf("End to end: producing a backlog of %,d requests...%n", e2eRequests);
      try (LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, Topics.DEFAULT_REQUESTS, factory)) {
        generator.run(0, e2eRequests, 0);
      }
      Double first = null;
      for (int maxBatch : e2eBatchSizes) {
        double rps = drain(stack, registry, factory, maxBatch);
        first = first == null ? rps : first;
        System.out.printf("  max.batch.size %4d  %,10.0f requests/s answered OK  %5.1fx max.batch.size %d%n",
            maxBatch, rps, rps / first, e2eBatchSizes[0]);
        runs.put("max_batch_size_" + maxBatch + "_rps", rps);
      }
      String passTopic = "bench.predictions.passthrough";
      stack.createTopics(Topics.defaults().withPredictions(passTopic), 2);
      try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, passTopic, factory, null)) {
        double pass = PassThrough.drain(new WorkerConfig(stack.workerConfig(Map.of(
            WorkerConfig.APPLICATION_ID_CONFIG, "bench-passthrough", WorkerConfig.PREDICTIONS_TOPIC_CONFIG, passTopic,
            WorkerConfig.MAX_BUFFERED_CONFIG, 1_000_000))), registry, version(), tracker, e2eRequests);
        runs.put("pass_through_no_op_engine_rps", pass);
        System.out.printf("  pass-through (same topology, no-op engine) %,10.0f requests/s%n", pass);
      }
      try (NoOpEngine noop = new NoOpEngine(version())) {
        stack.createTopics(Topics.defaults().withPredictions("bench.raw"), 2);
        double raw = NaiveLoop.run(stack.bootstrapServers(), registry, noop, version(), Topics.DEFAULT_REQUESTS,
            "bench.raw", e2eRequests);
        runs.put("raw_consume_produce_rps", raw);
        System.out.printf("  raw consume -> produce loop (no engine, at least once) %,10.0f requests/s%n", raw);
      }
      if (baseline) {
        try (OnnxEngine onnx = new OnnxEngine(EngineOptions.cpu())) {
          onnx.load(new ModelRepository(stack.modelsDir(), 1L << 31).load(version()));
          stack.createTopics(Topics.defaults().withPredictions("bench.naive"), 2);
          double naive = NaiveLoop.run(stack.bootstrapServers(), registry, onnx, version(), Topics.DEFAULT_REQUESTS,
              "bench.naive", e2eRequests);
          runs.put("naive_per_request_loop_rps", naive);
          System.out.printf("  naive per-request loop %,10.0f requests/s (at least once, no batching)%n", naive);
          runs.forEach((name, rps) -> {
            if (name.startsWith("max_batch_size_")) {
              System.out.printf("  %s / naive loop = %.1fx%n", name.replace("_rps", ""), (Double) rps / naive);
            }
          });
        }
      }
    }
    return runs;
  }

  /** A fresh worker (own application id and output topic) drains the whole backlog. */
  private double drain(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, int maxBatch)
      throws Exception {
    String predictions = "bench.predictions.b" + maxBatch;
    stack.createTopics(Topics.defaults().withPredictions(predictions), 2);
    Map<String, Object> config = stack.workerConfig(Map.of(
        WorkerConfig.APPLICATION_ID_CONFIG, "bench-b" + maxBatch,
        WorkerConfig.WORKER_ID_CONFIG, "bench-b" + maxBatch,
        WorkerConfig.PREDICTIONS_TOPIC_CONFIG, predictions,
        WorkerConfig.MAX_BATCH_SIZE_CONFIG, maxBatch,
        WorkerConfig.MAX_BUFFERED_CONFIG, 1_000_000,
        WorkerConfig.MODELS_PRIMARY_CONFIG, version().model() + "=" + version().version()));
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, predictions, factory, null);
        Worker worker = Worker.start(new WorkerConfig(config))) {
      while (worker.state() != KafkaStreams.State.RUNNING) {
        Thread.sleep(20); // polling a state; nothing to synchronise on
      }
      long start = System.currentTimeMillis();
      long deadline = start + 600_000;
      while (tracker.answered() < e2eRequests && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      if (tracker.answered() < e2eRequests || tracker.duplicates() > 0) {
        throw new IllegalStateException("Run with max.batch.size " + maxBatch + " answered " + tracker.answered()
            + " of " + e2eRequests + " with " + tracker.duplicates() + " duplicates");
      }
      return e2eRequests / ((tracker.lastAtMs() - start) / 1000.0);
    }
  }
}

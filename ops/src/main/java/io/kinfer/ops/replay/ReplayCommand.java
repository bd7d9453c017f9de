package io.kinfer.ops.replay;

import io.kinfer.client.replay.Replay;
import io.kinfer.client.replay.Report;
import io.kinfer.client.replay.ReportWriter;
import io.kinfer.evaluation.Gates;
import io.kinfer.evaluation.PairStats;
import io.kinfer.evaluation.PairSummary;
import io.kinfer.ops.ClusterOptions;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ops replay}: what would these versions have answered, and how does it differ? */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Re-run stored requests through candidate versions (directly on ONNX Runtime; production",
        "traffic untouched) and compare with the recorded predictions or another version. Writes",
        "report.json, report.html, disagreements.jsonl (requests whose top-1 class changed, or whose outputs",
        "differ beyond --tolerance when there is no class output) and failures.jsonl into --out.",
        "Exit codes: 0 done, 3 a --gate failed, 130 stopped early (partial report), 2 bad arguments."})
public final class ReplayCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--topic", defaultValue = Topics.DEFAULT_REQUESTS, description = "request topic (default: ${DEFAULT-VALUE})")
  String topic;

  @Option(names = "--from", description = "ISO-8601 instant, inclusive (e.g. 2026-11-24T00:00:00Z)")
  Instant from;

  @Option(names = "--to", description = "ISO-8601 instant, exclusive")
  Instant to;

  @Option(names = "--from-offset", description = "first offset in every partition (when --from is not given)")
  Long fromOffset;

  @Option(names = "--to-offset", description = "end offset (exclusive) in every partition (when --to is not given)")
  Long toOffset;

  @Option(names = "--candidate", required = true, description = "MODEL:VERSION to run; repeatable")
  List<String> candidates;

  @Option(names = "--baseline", defaultValue = Replay.RECORDED,
      description = "'recorded' (the predictions topic, joined by request id) or MODEL:VERSION (default: ${DEFAULT-VALUE})")
  String baseline;

  @Option(names = "--predictions-topic", defaultValue = Topics.DEFAULT_PREDICTIONS)
  String predictionsTopic;

  @Option(names = "--labels-topic", description = "key = request id, value = true class index (UTF-8): adds accuracy")
  String labelsTopic;

  @Option(names = "--max-labels", defaultValue = "2000000", description = "labels held in memory at most (default: ${DEFAULT-VALUE})")
  int maxLabels;

  @Option(names = "--models", required = true, description = "model repository (same layout the workers load)")
  Path models;

  @Option(names = "--out", defaultValue = "replay-report", description = "report directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--batch-size", defaultValue = "256", description = "rows per engine call (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--tolerance", defaultValue = "1e-5", description = "largest |difference| counted as agreement (default: ${DEFAULT-VALUE})")
  double tolerance;

  @Option(names = "--answer-delay", defaultValue = "PT60S", description = "longest a recorded answer may lag its request, ISO-8601 duration (default: ${DEFAULT-VALUE})")
  Duration answerDelay;

  @Option(names = "--sandbox-topic", description = "also write the candidates' answers here (transactions: read_committed sees whole chunks)")
  String sandboxTopic;

  @Option(names = "--gate", description = "e.g. \"agreement>=0.99,p99_diff<=1e-3\"; metrics: ${COMPLETION-CANDIDATES}",
      completionCandidates = MetricNames.class)
  String gate;

  /** For --help: the metric names a gate may use. */
  static final class MetricNames extends java.util.ArrayList<String> {
    MetricNames() {
      super(PairStats.METRICS);
    }
  }

  @Override
  public Integer call() throws Exception {
    Gates gates;
    Replay replay;
    try {
      gates = Gates.parse(gate);
      replay = new Replay(new Replay.Options(cluster.kafka(), cluster.schemaRegistry(), topic, from, to, fromOffset, toOffset, models,
          candidates.stream().map(ReplayCommand::version).toList(),
          baseline.equals(Replay.RECORDED) ? null : version(baseline), predictionsTopic, labelsTopic, maxLabels, out,
          batchSize, tolerance, answerDelay, sandboxTopic, System.err));
    } catch (IllegalArgumentException e) {
      System.err.println("ops replay: " + e.getMessage());
      return 2;
    }
    return runToReport(replay::run, replay::stop, gates, out);
  }

  /** A run that yields a report. */
  interface ReportRun {
    Report run() throws Exception;
  }

  /**
   * Runs, applies the gates, writes the report, prints a summary; Ctrl-C stops the run early and
   * still writes the (partial) report before the JVM exits.
   */
  static int runToReport(ReportRun run, Runnable stop, Gates gates, Path out) throws Exception {
    CountDownLatch written = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stop.run();
      try {
        written.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }, "kinfer-report-on-exit");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      Report report = run.run();
      Gates.Report verdicts = report.gate(gates);
      ReportWriter.write(out, report);
      System.out.println(summary(report, out));
      verdicts.verdicts().forEach(v -> System.out.println("  gate " + v));
      if (!verdicts.passed()) {
        System.err.println("A gate failed: see " + out.resolve("report.html"));
        return 3;
      }
      return report.partial() ? 130 : 0;
    } finally {
      written.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it only waited for the report above
      }
    }
  }

  private static String summary(Report report, Path out) {
    StringBuilder s = new StringBuilder();
    s.append(report.partial() ? "PARTIAL report " : "Report ").append(out.resolve("report.html"));
    for (PairSummary c : report.comparisons()) {
      Map<String, Double> m = c.metrics();
      s.append(String.format("%n  %s vs %s: %,.0f compared, agreement %.4f, top-1 agreement %.4f, p99 |diff| %.3g,"
          + " failed %.4f", c.candidate(), c.baseline(), m.get("compared"), m.get("agreement"),
          m.get("top1_agreement"), m.get("p99_diff"), m.get("failed_rate")));
    }
    return s.toString();
  }

  static ModelVersion version(String spec) {
    int colon = spec.lastIndexOf(':');
    if (colon <= 0 || colon == spec.length() - 1) {
      throw new IllegalArgumentException("Write versions as MODEL:VERSION (e.g. mlp:2), not '" + spec + "'");
    }
    return new ModelVersion(spec.substring(0, colon), spec.substring(colon + 1));
  }
}

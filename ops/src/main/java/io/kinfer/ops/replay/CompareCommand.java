package io.kinfer.ops.replay;

import io.kinfer.client.replay.Progress;
import io.kinfer.client.replay.RangeReader;
import io.kinfer.client.replay.Report;
import io.kinfer.client.replay.TopicRange;
import io.kinfer.evaluation.ComparisonTally;
import io.kinfer.evaluation.Gates;
import io.kinfer.ops.ClusterOptions;
import io.kinfer.topology.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ops compare}: the live shadow comparisons over a window, in the replay report format. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Summarise the comparisons topic (shadow vs primary, per request) over a time window into",
        "report.json and report.html; --gate as for replay. Exit codes: 0, 3 a gate failed, 2 bad arguments."})
public final class CompareCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--topic", defaultValue = Topics.DEFAULT_COMPARISONS, description = "(default: ${DEFAULT-VALUE})")
  String topic;

  @Option(names = "--last", defaultValue = "PT15M", description = "window ending now, ISO-8601 duration (default: ${DEFAULT-VALUE}); ignored with --from")
  Duration last;

  @Option(names = "--from", description = "ISO-8601 instant, inclusive")
  Instant from;

  @Option(names = "--to", description = "ISO-8601 instant, exclusive (default: now)")
  Instant to;

  @Option(names = "--model", description = "only this model")
  String model;

  @Option(names = "--shadow-version", description = "only this shadow version")
  String shadowVersion;

  @Option(names = "--tolerance", defaultValue = "1e-5", description = "largest |difference| counted as agreement (default: ${DEFAULT-VALUE})")
  double tolerance;

  @Option(names = "--out", defaultValue = "compare-report", description = "report directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--gate", description = "e.g. \"top1_agreement>=0.99,p99_diff<=1e-3\"")
  String gate;

  @Override
  public Integer call() throws Exception {
    Gates gates;
    try {
      gates = Gates.parse(gate);
    } catch (IllegalArgumentException e) {
      System.err.println("ops compare: " + e.getMessage());
      return 2;
    }
    Instant end = to != null ? to : Instant.now();
    Instant start = from != null ? from : end.minus(last);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    return ReplayCommand.runToReport(() -> summarise(start, end, stop::get), () -> stop.set(true), gates, out);
  }

  private Report summarise(Instant start, Instant end, java.util.function.BooleanSupplier stop)
      throws Exception {
    ComparisonTally tally = new ComparisonTally(cluster.schemaRegistry(), topic, model, shadowVersion,
        tolerance);
    try (RangeReader reader = new RangeReader(cluster.kafka(), 2000)) {
      TopicRange range = TopicRange.resolve(reader.consumer(), topic, start, end, null, null);
      Progress progress = new Progress(System.err, "compare " + topic, range.size());
      long[] done = new long[1];
      reader.read(range, stop, chunk -> {
        tally.accept(chunk);
        done[0] += chunk.size();
        progress.update(done[0], false);
      });
      Map<String, Object> source = new java.util.LinkedHashMap<>();
      source.put("topic", topic);
      source.put("from", start.toString());
      source.put("to", end.toString());
      source.put("records", range.size());
      return Report.of("compare", stop.getAsBoolean() ? "stopped before the end of the window (Ctrl-C)" : null, tally)
          .with("source", source);
    }
  }
}

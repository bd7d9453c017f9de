package io.kinfer.dev.bench;

import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.batch.WaitingRequests;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.TokenRequests;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Padding on a sequence model, through the engine: the same requests of the long-tailed length mix
 * batched four ways, each batch one {@code OnnxEngine.infer} call as {@link EngineBench} runs them.
 * Padding efficiency is real tokens / computed tokens (rows x the batch's longest, summed). The
 * strategies alternate within each round and each reports its median round.
 */
final class PaddingBench {
  /** Sizes of the padding benchmark ({@code ops bench --model minilm}). */
  static final class Options {
    @Option(names = "--padding-requests", defaultValue = "2000", description = "requests batched by each strategy"
        + " (default: ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--max-tokens", defaultValue = "128", description = "longest request, and the fixed padding"
        + " length (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--padding-batch", defaultValue = "32", description = "B: rows per batch, also the end-to-end"
        + " workers' max.batch.size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--batch-elements", defaultValue = "4096", description = "padded-element budget of a"
        + " length-aware batch, also the end-to-end workers' max.batch.elements (default: ${DEFAULT-VALUE})")
    long budget;

    @Option(names = "--padding-rounds", defaultValue = "3", description = "rounds of all four strategies; each"
        + " reports its median (default: ${DEFAULT-VALUE})")
    int rounds;
  }

  static final String BATCH_1 = "batch_1";
  static final String FIFO = "fifo_padding";
  static final String FIXED = "fixed_padding";
  static final String LENGTH_AWARE = "length_aware";
  static final double EFFICIENCY_GOAL = 0.9;
  static final double FIFO_SPEEDUP_GOAL = 1.5;

  /** One strategy: how it batched and, at its median round, how fast the engine answered. */
  record Row(String name, String label, int batches, double efficiency, double requestsPerSecond,
      double tokensPerSecond, long answered) {
    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("strategy", label);
      m.put("batches", batches);
      m.put("padding_efficiency", efficiency);
      m.put("requests_per_s", requestsPerSecond);
      m.put("real_tokens_per_s", tokensPerSecond);
      m.put("answered", answered);
      return m;
    }
  }

  /** The rows in the order batch 1, FIFO, fixed, length-aware. */
  record Result(List<Row> rows, long requests, long realTokens, double choiceMs) {
    Row row(String name) {
      return rows.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    double overFifo() {
      return row(LENGTH_AWARE).requestsPerSecond() / row(FIFO).requestsPerSecond();
    }

    double overBatch1() {
      return row(LENGTH_AWARE).requestsPerSecond() / row(BATCH_1).requestsPerSecond();
    }

    Map<String, Object> toMap(Options o) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("requests", requests);
      m.put("real_tokens", realTokens);
      m.put("max_tokens", o.maxTokens);
      m.put("batch_rows", o.batch);
      m.put("max_batch_elements", o.budget);
      m.put("rounds", o.rounds);
      rows.forEach(r -> m.put(r.name(), r.toMap()));
      m.put("length_aware_choice_ms", choiceMs);
      m.put("length_aware_over_fifo", overFifo());
      m.put("length_aware_over_batch_1", overBatch1());
      m.put("efficiency_goal_met", row(LENGTH_AWARE).efficiency() >= EFFICIENCY_GOAL);
      m.put("fifo_speedup_goal_met", overFifo() >= FIFO_SPEEDUP_GOAL);
      return m;
    }
  }

  private record Strategy(String name, String label, List<List<InferenceRequest>> batches, double efficiency) {}

  private PaddingBench() {}

  /** @param progress where each round's timings go as they come (stderr: the runs are long) */
  static Result run(OnnxEngine engine, ModelVersion version, RequestFactory factory, Options o, PrintStream out,
      PrintStream progress) {
    int n = o.requests;
    List<InferenceRequest> requests = new ArrayList<>(n);
    long[] lengths = new long[n];
    List<InferenceRequest> fixed = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long[] ids = factory.tokenIds(i);
      lengths[i] = ids.length;
      requests.add(TokenRequests.request(factory.id(i), version.model(), ids));
      fixed.add(TokenRequests.padded(factory.id(i), version.model(), ids, o.maxTokens));
    }
    long start = System.nanoTime();
    List<List<InferenceRequest>> lengthAware = lengthAware(requests, factory, version, o);
    double choiceMs = (System.nanoTime() - start) / 1e6;
    List<Strategy> strategies = List.of(
        strategy(BATCH_1, "batch 1, no padding", groups(requests, 1), factory, lengths),
        strategy(FIFO, "FIFO, padded to group's longest", groups(requests, o.batch), factory, lengths),
        strategy(FIXED, "fixed, padded to " + o.maxTokens, groups(fixed, o.batch), factory, lengths),
        strategy(LENGTH_AWARE, "length-aware (WaitingRequests)", lengthAware, factory, lengths));
    long realTokens = Arrays.stream(lengths).sum();
    for (Strategy s : strategies) { // warm-up: ONNX Runtime's first calls at new shapes allocate
      s.batches().stream().limit(3).forEach(b -> engine.infer(version, b));
    }
    double[][] seconds = new double[strategies.size()][o.rounds];
    long[] answered = new long[strategies.size()];
    Arrays.fill(answered, Long.MAX_VALUE);
    for (int round = 0; round < o.rounds; round++) {
      for (int s = 0; s < strategies.size(); s++) {
        long t0 = System.nanoTime();
        long ok = 0;
        for (List<InferenceRequest> batch : strategies.get(s).batches()) {
          BatchResult result = engine.infer(version, batch);
          ok += result.outcomes().stream().filter(BatchResult.Outcome::isOk).count();
        }
        seconds[s][round] = (System.nanoTime() - t0) / 1e9;
        answered[s] = Math.min(answered[s], ok);
        progress.printf("  padding round %d/%d  %-32s %7.2f s  %,8.0f requests/s%n", round + 1, o.rounds,
            strategies.get(s).label(), seconds[s][round], n / seconds[s][round]);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < strategies.size(); s++) {
      Strategy st = strategies.get(s);
      double median = median(seconds[s]);
      rows.add(new Row(st.name(), st.label(), st.batches().size(), st.efficiency(), n / median, realTokens / median,
          answered[s]));
    }
    Result result = new Result(rows, n, realTokens, choiceMs);
    print(result, version, o, out);
    return result;
  }

  /** The worker's own choice: every request of the backlog waiting, batches taken until none is left. */
  private static List<List<InferenceRequest>> lengthAware(List<InferenceRequest> requests, RequestFactory factory,
      ModelVersion version, Options o) {
    return lengthAware(requests, factory, version, o.batch, o.budget);
  }

  /** Batches as {@link WaitingRequests} forms them from a backlog of all of {@code requests}. */
  static List<List<InferenceRequest>> lengthAware(List<InferenceRequest> requests, RequestFactory factory,
      ModelVersion version, int rows, long budget) {
    WaitingRequests waiting = new WaitingRequests();
    for (int i = 0; i < requests.size(); i++) {
      waiting.add(requests.get(i).getId(), BufferedRequest.newBuilder().setKey(factory.key(i))
          .setRequest(requests.get(i)).setVersion(version.version()).setVariant("primary").setRecordTimestamp(i)
          .setEnqueuedAtMs(i).build());
    }
    List<List<InferenceRequest>> batches = new ArrayList<>();
    while (waiting.size() > 0) {
      batches.add(waiting.take(rows, budget).stream().map(e -> e.request().getRequest()).toList());
    }
    return batches;
  }

  /** Arrival-order groups of {@code rows}. */
  private static List<List<InferenceRequest>> groups(List<InferenceRequest> requests, int rows) {
    List<List<InferenceRequest>> out = new ArrayList<>();
    for (int i = 0; i < requests.size(); i += rows) {
      out.add(requests.subList(i, Math.min(requests.size(), i + rows)));
    }
    return out;
  }

  /** Real tokens (the requests' own lengths) over computed ones (rows x the longest sent shape, per batch). */
  private static Strategy strategy(String name, String label, List<List<InferenceRequest>> batches,
      RequestFactory factory, long[] lengths) {
    long real = 0;
    long computed = 0;
    for (List<InferenceRequest> batch : batches) {
      long longest = 0;
      for (InferenceRequest r : batch) {
        real += lengths[(int) factory.index(r.getId())];
        longest = Math.max(longest, r.getInputs().get(0).getShape().get(1));
      }
      computed += batch.size() * longest;
    }
    return new Strategy(name, label, batches, (double) real / computed);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  private static void print(Result r, ModelVersion version, Options o, PrintStream out) {
    out.printf("Padding: %s through the engine, %,d requests (%,d real tokens, at most %d each), B=%d,"
        + " max.batch.elements=%d, median of %d rounds%n", version, r.requests(), r.realTokens(), o.maxTokens, o.batch,
        o.budget, o.rounds);
    out.printf("  %-34s %8s %10s %11s %12s %14s%n", "strategy", "batches", "mean rows", "efficiency", "requests/s",
        "real tokens/s");
    for (Row row : r.rows()) {
      out.printf("  %-34s %,8d %10.1f %10.1f%% %,12.0f %,14.0f%s%n", row.label(), row.batches(),
          (double) r.requests() / row.batches(), row.efficiency() * 100, row.requestsPerSecond(), row.tokensPerSecond(),
          row.answered() == r.requests() ? "" : "  ONLY " + row.answered() + " answered OK");
    }
    Row la = r.row(LENGTH_AWARE);
    out.printf("  length-aware / FIFO %.2fx, length-aware / batch 1 %.2fx (choosing its batches took %.1f ms)%n",
        r.overFifo(), r.overBatch1(), r.choiceMs());
    out.printf("  goal: length-aware padding efficiency >= %.0f%%: %.1f%%, %s%n", EFFICIENCY_GOAL * 100,
        la.efficiency() * 100, la.efficiency() >= EFFICIENCY_GOAL ? "met" : "NOT met");
    out.printf("  goal: length-aware throughput >= %.1fx FIFO padding: %.2fx, %s%n", FIFO_SPEEDUP_GOAL, r.overFifo(),
        r.overFifo() >= FIFO_SPEEDUP_GOAL ? "met" : "NOT met");
  }
}

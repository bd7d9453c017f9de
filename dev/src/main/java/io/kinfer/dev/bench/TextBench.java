package io.kinfer.dev.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.batch.WaitingRequests;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.engine.Tokenizers;
import io.kinfer.worker.repository.ModelRepository.VerifiedModel;
import java.io.PrintStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * A text model on the same texts and the same batches, five ways, alternating within each round
 * (each reports its median round): ONNX Runtime alone on batches tokenized beforehand ({@link
 * OrtAlone}, the reference), the worker's engine (strings in, embeddings out) on the FP32 and INT8
 * builds, and the tokenizer alone, batched as the engine calls it and one text at a time. Batches
 * are the worker's own of a backlog of these texts ({@link WaitingRequests}: grouped by length,
 * estimated from their bytes).
 */
final class TextBench {
  /** Sizes of the text benchmark ({@code ops bench --model minilm-text}). */
  static final class Options {
    @Option(names = "--text-requests", defaultValue = "2000", description = "texts run by each path (default:"
        + " ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--text-batch", defaultValue = "32", description = "texts per batch, also the end-to-end"
        + " workers' max.batch.size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--text-rounds", defaultValue = "3", description = "rounds of every path; each reports its"
        + " median (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--texts", description = "bench on this file's lines (one text per line) instead of the"
        + " generated mix")
    Path texts;
  }

  static final String ORT_ALONE = "onnx_runtime_alone_fp32";
  static final String ENGINE_FP32 = "engine_fp32";
  static final String ENGINE_INT8 = "engine_int8";
  static final String TOKENIZE_BATCHED = "tokenize_batched";
  static final String TOKENIZE_ONE = "tokenize_one_at_a_time";

  /** @param ortTextsPerSecond the reference the worker's end-to-end rate is measured against */
  record Result(double ortTextsPerSecond, Map<String, Object> results) {}

  /** One way through every batch; keeps its answers when asked (the first round). */
  private interface Pass {
    void run(boolean keep) throws Exception;
  }

  private final List<List<String>> texts = new ArrayList<>();
  private final List<List<InferenceRequest>> requests = new ArrayList<>();
  private final List<Encoding[]> encoded = new ArrayList<>();
  private final int n;
  private float[][] ortEmbeddings;
  /** The engine's embeddings per text, [FP32, INT8] (null where a text failed); failures counted alike. */
  private final float[][][] answers = new float[2][][];
  private final long[] failed = new long[2];

  private TextBench(RequestFactory factory, ModelVersion version, int n, int batch) {
    this.n = n;
    List<InferenceRequest> all = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      all.add(factory.request(i));
    }
    // The worker's batches of a backlog of these texts: grouped by length, not padded to a rare long one.
    for (List<InferenceRequest> b : PaddingBench.lengthAware(all, factory, version, batch, Long.MAX_VALUE)) {
      texts.add(b.stream().map(r -> factory.text(factory.index(r.getId()))).toList());
      requests.add(b);
    }
  }

  /**
   * @param fp32 the loaded FP32 version's verified files: ONNX Runtime alone runs the same model.onnx
   * @param int8 the INT8 version, loaded in {@code engine}; null skips it
   * @param progress where each round's timings go as they come (stderr: the runs are long)
   */
  static Result run(OnnxEngine engine, VerifiedModel fp32, ModelVersion int8, RequestFactory factory, Options o,
      EngineOptions options, String source, PrintStream out, PrintStream progress) throws Exception {
    TextBench bench = new TextBench(factory, fp32.version(), o.requests, o.batch);
    int maxLength = fp32.config().text().maxLength();
    try (HuggingFaceTokenizer tokenizer = Tokenizers.load(fp32.tokenizer(), maxLength);
        OrtAlone ort = new OrtAlone(fp32.onnx(), fp32.config(), options)) {
      for (List<String> batch : bench.texts) { // outside every timing: ONNX Runtime alone gets token ids
        bench.encoded.add(tokenizer.batchEncode(batch));
      }
      Map<String, Pass> passes = new LinkedHashMap<>();
      passes.put(ORT_ALONE, keep -> bench.ortAlone(ort, keep));
      passes.put(ENGINE_FP32, keep -> bench.engine(engine, fp32.version(), keep, 0));
      if (int8 != null) {
        passes.put(ENGINE_INT8, keep -> bench.engine(engine, int8, keep, 1));
      }
      passes.put(TOKENIZE_BATCHED, keep -> bench.texts.forEach(tokenizer::batchEncode));
      passes.put(TOKENIZE_ONE, keep -> bench.texts.forEach(batch -> batch.forEach(tokenizer::encode)));
      Map<String, Double> seconds = bench.measure(passes, o.rounds, progress);
      return bench.report(seconds, fp32.version(), int8, o, maxLength, source, out);
    }
  }

  /**
   * Median seconds of each pass over {@code rounds}. A first, unmeasured pass of each warms it up
   * (ONNX Runtime's first calls at new shapes allocate) and keeps its answers for the comparisons.
   */
  private Map<String, Double> measure(Map<String, Pass> passes, int rounds, PrintStream progress) throws Exception {
    for (Pass pass : passes.values()) {
      pass.run(true);
    }
    Map<String, double[]> times = new LinkedHashMap<>();
    for (int round = 0; round < rounds; round++) {
      for (Map.Entry<String, Pass> pass : passes.entrySet()) {
        long t0 = System.nanoTime();
        pass.getValue().run(false);
        double s = (System.nanoTime() - t0) / 1e9;
        times.computeIfAbsent(pass.getKey(), k -> new double[rounds])[round] = s;
        progress.printf("  text round %d/%d  %-26s %7.2f s  %,9.0f texts/s%n", round + 1, rounds, pass.getKey(), s,
            n / s);
      }
    }
    Map<String, Double> medians = new LinkedHashMap<>();
    times.forEach((name, t) -> medians.put(name, median(t)));
    return medians;
  }

  private void ortAlone(OrtAlone ort, boolean keep) throws Exception {
    List<float[]> all = new ArrayList<>(n);
    for (Encoding[] batch : encoded) {
      all.addAll(Arrays.asList(ort.embed(batch)));
    }
    if (keep) {
      ortEmbeddings = all.toArray(new float[0][]);
    }
  }

  /** The engine on every batch; with {@code keep}, its answers go to {@code answers[slot]}. */
  private void engine(OnnxEngine engine, ModelVersion version, boolean keep, int slot) {
    float[][] out = keep ? new float[n][] : null;
    int i = 0;
    for (List<InferenceRequest> batch : requests) {
      BatchResult result = engine.infer(version, batch);
      if (keep) {
        for (BatchResult.Outcome outcome : result.outcomes()) {
          if (outcome.isOk()) {
            out[i] = floats(outcome.outputs().get(0).getRaw());
          } else {
            failed[slot]++;
          }
          i++;
        }
      }
    }
    if (keep) {
      answers[slot] = out;
    }
  }

  private static float[] floats(java.nio.ByteBuffer raw) {
    FloatBuffer fb = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  /** Per text, the cosine similarity of two paths' embeddings (texts either path failed on are left out). */
  private static CosineSummary cosines(float[][] a, float[][] b) {
    double[] c = new double[a.length];
    int k = 0;
    for (int i = 0; i < a.length; i++) {
      if (a[i] != null && b[i] != null) {
        c[k++] = ShadowComparator.cosine(a[i], b[i]);
      }
    }
    return CosineSummary.of(Arrays.copyOf(c, k));
  }

  private Result report(Map<String, Double> s, ModelVersion fp32, ModelVersion int8, Options o, int maxLength,
      String source, PrintStream out) {
    int[] lengths = encoded.stream().flatMap(Arrays::stream).mapToInt(e -> e.getIds().length).sorted().toArray();
    int p50 = lengths[lengths.length / 2];
    int p99 = lengths[(int) (0.99 * (lengths.length - 1))];
    int longest = lengths[lengths.length - 1];
    long realTokens = Arrays.stream(lengths).asLongStream().sum();
    long computed = encoded.stream().mapToLong(b -> (long) b.length
        * Arrays.stream(b).mapToInt(e -> e.getIds().length).max().orElse(0)).sum();
    long truncated = Arrays.stream(lengths).filter(l -> l >= maxLength).count();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("texts", n);
    m.put("source", source);
    m.put("batch", o.batch);
    m.put("batches", requests.size());
    m.put("rounds", o.rounds);
    m.put("max_length", maxLength);
    Map<String, Object> tokens = new LinkedHashMap<>();
    tokens.put("p50", p50);
    tokens.put("p99", p99);
    tokens.put("max", longest);
    tokens.put("real", realTokens);
    tokens.put("truncated_texts", truncated);
    m.put("tokens", tokens);
    m.put("padding_efficiency", (double) realTokens / computed);
    s.forEach((name, seconds) -> {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("seconds", seconds);
      row.put("texts_per_s", n / seconds);
      row.put("real_tokens_per_s", realTokens / seconds);
      row.put("us_per_text", seconds / n * 1e6);
      m.put(name, row);
    });
    double engineOverOrt = s.get(ORT_ALONE) / s.get(ENGINE_FP32);
    double tokenizeShare = s.get(TOKENIZE_BATCHED) / s.get(ENGINE_FP32);
    double ortShare = s.get(ORT_ALONE) / s.get(ENGINE_FP32);
    m.put("engine_fp32_over_onnx_runtime_alone", engineOverOrt);
    Map<String, Object> share = new LinkedHashMap<>();
    share.put("tokenization", tokenizeShare);
    share.put("onnx_runtime_and_pooling", ortShare);
    share.put("rest", 1 - tokenizeShare - ortShare);
    m.put("engine_fp32_time_share", share);
    CosineSummary same = cosines(ortEmbeddings, answers[0]);
    m.put("engine_fp32_vs_onnx_runtime_alone_cosine", same.toMap());
    m.put("engine_fp32_failed", failed[0]);
    out.printf("Text: %s through the engine, %,d texts (%s; tokens p50 %d, p99 %d, max %d; %,d truncated at %d),"
        + " length-aware batches of up to %d (padding efficiency %.1f%%), median of %d rounds%n", fp32, n, source, p50, p99, longest,
        truncated, maxLength, o.batch, 100.0 * realTokens / computed, o.rounds);
    out.printf("  %-52s %10s %14s %12s%n", "path", "texts/s", "real tokens/s", "us per text");
    s.forEach((name, seconds) -> out.printf("  %-52s %,10.0f %,14.0f %,12.1f%n", label(name), n / seconds,
        realTokens / seconds, seconds / n * 1e6));
    out.printf("  engine FP32 / ONNX Runtime alone on the same batches: %.2fx (answers: cosine min %.6f over %,d"
        + " texts%s)%n", engineOverOrt, same.min(), same.count(), failed[0] == 0 ? "" : "; " + failed[0] + " FAILED");
    out.printf("  engine FP32 time: tokenization %.1f%% (%.0f us per text batched, %.0f us one at a time), ONNX"
        + " Runtime + pooling %.1f%%, the rest (reading strings, padding, answers) %.1f%%%n", 100 * tokenizeShare,
        s.get(TOKENIZE_BATCHED) / n * 1e6, s.get(TOKENIZE_ONE) / n * 1e6, 100 * ortShare,
        100 * (1 - tokenizeShare - ortShare));
    if (int8 != null) {
      CosineSummary q = cosines(answers[0], answers[1]);
      double speedup = s.get(ENGINE_FP32) / s.get(ENGINE_INT8);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("version", int8.toString());
      r.put("over_fp32_texts_per_s", speedup);
      r.put("cosine_vs_fp32", q.toMap());
      r.put("failed", failed[1]);
      m.put("int8", r);
      out.printf("  INT8 (%s) vs FP32: %.2fx texts/s; cosine of INT8 embeddings to FP32 over %,d texts: mean %.4f,"
          + " p1 %.4f, min %.4f%s%n", int8, speedup, q.count(), q.mean(), q.p1(), q.min(),
          failed[1] == 0 ? "" : "; " + failed[1] + " FAILED");
    }
    return new Result(n / s.get(ORT_ALONE), m);
  }

  private static String label(String pass) {
    return switch (pass) {
      case ORT_ALONE -> "ONNX Runtime alone, FP32 (token ids given, pooled here)";
      case ENGINE_FP32 -> "engine FP32 (strings in, embeddings out)";
      case ENGINE_INT8 -> "engine INT8 (strings in, embeddings out)";
      case TOKENIZE_BATCHED -> "tokenizer alone, batched as the engine calls it";
      default -> "tokenizer alone, one text at a time";
    };
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
}

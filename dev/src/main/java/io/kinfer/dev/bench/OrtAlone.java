package io.kinfer.dev.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.Tokenizers;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TextSpec;
import io.kinfer.worker.repository.ModelRepository.VerifiedModel;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference a text model's worker is measured against: ONNX Runtime alone on batches tokenized
 * beforehand, padded to the batch's longest, with pooling done here, as a program using ONNX Runtime
 * directly would. Its session is set up as the worker's engine sets up its own (all graph
 * optimisations, no spinning, the same intra-op threads), so a gap between the two is the worker's
 * own work (reading strings, tokenizing, copying), not a different ONNX Runtime configuration.
 */
final class OrtAlone implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String hidden;
  private final boolean mean;
  private final boolean normalize;
  private final long padId;

  OrtAlone(byte[] onnx, ModelConfig config, EngineOptions options) throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      opts.addConfigEntry("session.intra_op.allow_spinning", "0");
      if (options.intraOpThreads() > 0) {
        opts.setIntraOpNumThreads(options.intraOpThreads());
      }
      if (EngineOptions.CUDA.equals(options.device())) {
        opts.addCUDA(options.cudaDeviceId());
      }
      session = env.createSession(onnx, opts);
    }
    TextSpec text = config.text();
    hidden = text.hiddenOutput(config).name();
    mean = TextSpec.MEAN.equals(text.pooling());
    normalize = text.normalized();
    padId = (long) config.inputs().stream().filter(i -> i.name().equals("input_ids")).findFirst().orElseThrow()
        .padValue();
  }

  /** One embedding per text of the batch: the session run once on the batch padded to its longest. */
  float[][] embed(Encoding[] batch) throws OrtException {
    int n = batch.length;
    int length = Arrays.stream(batch).mapToInt(e -> e.getIds().length).max().orElse(1);
    long[] ids = new long[n * length];
    long[] mask = new long[n * length];
    long[] types = new long[n * length];
    Arrays.fill(ids, padId);
    for (int b = 0; b < n; b++) {
      System.arraycopy(batch[b].getIds(), 0, ids, b * length, batch[b].getIds().length);
      System.arraycopy(batch[b].getAttentionMask(), 0, mask, b * length, batch[b].getAttentionMask().length);
      System.arraycopy(batch[b].getTypeIds(), 0, types, b * length, batch[b].getTypeIds().length);
    }
    long[] shape = {n, length};
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (String name : session.getInputNames()) {
        long[] values = switch (name) {
          case "input_ids" -> ids;
          case "attention_mask" -> mask;
          default -> types;
        };
        feeds.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
      }
      try (OrtSession.Result result = session.run(feeds, Set.of(hidden))) {
        FloatBuffer h = ((OnnxTensor) result.get(hidden).orElseThrow()).getFloatBuffer();
        int dim = h.remaining() / (n * length);
        float[][] out = new float[n][];
        for (int b = 0; b < n; b++) {
          out[b] = pool(h, b, length, dim, mask);
        }
        return out;
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private float[] pool(FloatBuffer h, int row, int length, int dim, long[] mask) {
    double[] sum = new double[dim];
    int tokens = mean ? length : 1; // CLS pooling reads the first token only
    long count = 0;
    for (int t = 0; t < tokens; t++) {
      if (mask[row * length + t] != 0) {
        count++;
        int at = (row * length + t) * dim;
        for (int d = 0; d < dim; d++) {
          sum[d] += h.get(at + d);
        }
      }
    }
    double norm = 0;
    for (int d = 0; d < dim; d++) {
      sum[d] /= Math.max(count, 1);
      norm += sum[d] * sum[d];
    }
    double scale = normalize ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      out[d] = (float) (sum[d] * scale);
    }
    return out;
  }

  /**
   * Texts per second of ONNX Runtime alone on {@code batches} (request indexes of {@code factory}),
   * tokenized beforehand: the median of {@code rounds} passes after one unmeasured pass.
   */
  static double textsPerSecond(VerifiedModel model, RequestFactory factory, List<long[]> batches,
      EngineOptions options, int rounds) throws Exception {
    List<Encoding[]> encoded = new ArrayList<>(batches.size());
    long texts = 0;
    try (HuggingFaceTokenizer tokenizer = Tokenizers.load(model.tokenizer(), model.config().text().maxLength());
        OrtAlone ort = new OrtAlone(model.onnx(), model.config(), options)) {
      for (long[] batch : batches) {
        List<String> strings = new ArrayList<>(batch.length);
        for (long index : batch) {
          strings.add(factory.text(index));
        }
        encoded.add(tokenizer.batchEncode(strings));
        texts += batch.length;
      }
      double seconds = WorkerBatches.medianSeconds(rounds, () -> {
        for (Encoding[] batch : encoded) {
          ort.embed(batch);
        }
      });
      return texts / seconds;
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}

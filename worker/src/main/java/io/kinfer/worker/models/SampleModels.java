package io.kinfer.worker.models;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import io.kinfer.worker.repository.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates the sample models into a model repository, deterministically (same bytes every run),
 * so no binary is kept in git.
 *
 * <ul>
 *   <li>{@code mlp} v1 and v2: the reference classifier, 32 FP32 features → 256 → 256 → 10 classes,
 *       softmax. v2 shares v1's hidden layers and perturbs the last one, so the two agree on most
 *       but not all inputs (something real for canary and shadow to show).
 *   <li>{@code mlp} 1-int8: v1 with INT8 weights and dynamically quantized activations, the
 *       "shadow the quantized model, check agreement, promote it" candidate.
 * </ul>
 */
public final class SampleModels {
  public static final String MLP = "mlp";
  public static final String INPUT = "input";
  public static final String OUTPUT = "probabilities";
  public static final int MLP_FEATURES = 32;
  public static final int MLP_CLASSES = 10;
  /** The compute-bound reference model (not in {@link #writeAll}: ~38 MB, for benchmarks). */
  public static final String HEAVY = "heavy";
  public static final int HEAVY_FEATURES = 512;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private SampleModels() {}

  /** Writes every sample model under {@code root}; returns the versions written. */
  public static List<Path> writeAll(Path root) throws IOException {
    List<Path> written = new ArrayList<>();
    written.add(writeMlp(root, "1", 0.0));
    written.add(writeMlp(root, "2", 0.35));
    written.add(writeMlpInt8(root));
    return written;
  }

  /**
   * @param lastLayerNoise scale of the perturbation added to the output layer (0 = the base weights)
   */
  public static Path writeMlp(Path root, String version, double lastLayerNoise) throws IOException {
    return writeClassifier(root, MLP, version, new int[] {MLP_FEATURES, 256, 256, MLP_CLASSES}, lastLayerNoise,
        "Reference classifier MLP 32-256-256-10, softmax");
  }

  /** The heavy reference model: 512 → 2048 → 2048 → 2048 → 10, softmax (compute-bound on CPU). */
  public static Path writeHeavy(Path root) throws IOException {
    return writeClassifier(root, HEAVY, "1", new int[] {HEAVY_FEATURES, 2048, 2048, 2048, MLP_CLASSES}, 0,
        "Heavy reference classifier 512-2048-2048-2048-10, softmax");
  }

  /** Version of {@code mlp} v1 with INT8 weights and dynamically quantized activations. */
  public static final String MLP_INT8_VERSION = "1-int8";

  /**
   * {@code mlp} v1 quantized the way ONNX Runtime's dynamic quantization does it: weights to INT8
   * (symmetric, per tensor), activations to UINT8 at run time (DynamicQuantizeLinear), integer
   * matrix products (MatMulInteger) rescaled to FP32 before bias, ReLU and softmax.
   */
  public static Path writeMlpInt8(Path root) throws IOException {
    return writeClassifier(root, MLP, MLP_INT8_VERSION, new int[] {MLP_FEATURES, 256, 256, MLP_CLASSES}, 0,
        "Reference classifier MLP 32-256-256-10, v1 weights quantized to INT8 (dynamic activations)", true);
  }

  /** The heavy model quantized like {@link #writeMlpInt8} (version {@value #MLP_INT8_VERSION}). */
  public static Path writeHeavyInt8(Path root) throws IOException {
    return writeClassifier(root, HEAVY, MLP_INT8_VERSION, new int[] {HEAVY_FEATURES, 2048, 2048, 2048, MLP_CLASSES}, 0,
        "Heavy reference classifier 512-2048-2048-2048-10, INT8 weights (dynamic activations)", true);
  }

  private static Path writeClassifier(Path root, String name, String version, int[] widths, double lastLayerNoise,
      String description) throws IOException {
    return writeClassifier(root, name, version, widths, lastLayerNoise, description, false);
  }

  private static Path writeClassifier(Path root, String name, String version, int[] widths, double lastLayerNoise,
      String description, boolean int8) throws IOException {
    Random base = new Random(42);
    Random noise = new Random(1000 + version.hashCode());
    OnnxGraphWriter graph = new OnnxGraphWriter(name + "_v" + version).input(INPUT, widths[0]);
    String previous = INPUT;
    for (int layer = 0; layer < widths.length - 1; layer++) {
      int in = widths[layer];
      int out = widths[layer + 1];
      boolean last = layer == widths.length - 2;
      float[] w = heInit(base, in, out);
      float[] b = new float[out];
      for (int i = 0; i < out; i++) {
        b[i] = (float) (base.nextGaussian() * 0.05);
      }
      if (last && lastLayerNoise > 0) {
        for (int i = 0; i < w.length; i++) {
          w[i] += (float) (noise.nextGaussian() * lastLayerNoise * Math.sqrt(2.0 / in));
        }
      }
      String wName = "W" + layer;
      String bName = "B" + layer;
      if (int8) {
        graph.initializer(bName, new long[] {out}, b);
        quantizedMatMul(graph, previous, w, in, out, layer);
      } else {
        graph.initializer(wName, new long[] {in, out}, w).initializer(bName, new long[] {out}, b);
        graph.node("MatMul", List.of(previous, wName), "mm" + layer, null, null);
      }
      graph.node("Add", List.of("mm" + layer, bName), "z" + layer, null, null);
      if (last) {
        graph.node("Softmax", List.of("z" + layer), OUTPUT, "axis", 1L);
      } else {
        graph.node("Relu", List.of("z" + layer), "h" + layer, null, null);
        previous = "h" + layer;
      }
    }
    int classes = widths[widths.length - 1];
    graph.output(OUTPUT, classes);
    return write(root, name, version, graph.toByteArray(),
        List.of(TensorSpec.of(INPUT, "FP32", widths[0])),
        List.of(TensorSpec.of(OUTPUT, "FP32", classes)),
        description + (lastLayerNoise > 0 ? "; output layer perturbed by " + lastLayerNoise : ""));
  }

  /** {@code mm<layer> = previous × w} in integers: quantize, MatMulInteger, Cast, rescale. */
  private static void quantizedMatMul(OnnxGraphWriter graph, String previous, float[] w, int in, int out, int layer) {
    float maxAbs = 0;
    for (float v : w) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    float scale = maxAbs / 127f;
    byte[] q = new byte[w.length];
    for (int i = 0; i < w.length; i++) {
      q[i] = (byte) Math.max(-127, Math.min(127, Math.round(w[i] / scale)));
    }
    String l = Integer.toString(layer);
    graph.initializerInt8("Wq" + l, new long[] {in, out}, q)
        .initializerInt8("Wzp" + l, new long[0], new byte[] {0})
        .initializer("Wscale" + l, new long[0], new float[] {scale});
    graph.node("DynamicQuantizeLinear", List.of(previous), List.of("xq" + l, "xscale" + l, "xzp" + l), null, null);
    graph.node("MatMulInteger", List.of("xq" + l, "Wq" + l, "xzp" + l, "Wzp" + l), "mmi" + l, null, null);
    graph.node("Cast", List.of("mmi" + l), "mmf" + l, "to", 1L);
    graph.node("Mul", List.of("xscale" + l, "Wscale" + l), "scale" + l, null, null);
    graph.node("Mul", List.of("mmf" + l, "scale" + l), "mm" + l, null, null);
  }

  private static float[] heInit(Random random, int in, int out) {
    float[] w = new float[in * out];
    double scale = Math.sqrt(2.0 / in);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * scale);
    }
    return w;
  }

  /** Writes one version (model.onnx + model.json with its sha256) into a repository. */
  public static Path write(Path root, String name, String version, byte[] onnx,
      List<TensorSpec> inputs, List<TensorSpec> outputs, String description) throws IOException {
    Path dir = root.resolve(name).resolve(version);
    Files.createDirectories(dir);
    Files.write(dir.resolve("model.onnx"), onnx);
    ModelConfig config = new ModelConfig(name, version, 1024, inputs, outputs, Sha256.hex(onnx), description);
    JSON.writeValue(dir.resolve("model.json").toFile(), config);
    return dir;
  }
}

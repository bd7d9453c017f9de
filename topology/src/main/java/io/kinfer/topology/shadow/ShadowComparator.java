package io.kinfer.topology.shadow;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.Tensor;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/** Compares a primary's and a shadow's outputs for one request. Pure; no Kafka. */
public final class ShadowComparator {
  /** An output of this name is an embedding: compared by cosine, never read as class scores. */
  public static final String EMBEDDING_OUTPUT = "embedding";
  /** A BYTES output of this name is a classifier's decision: top-1 agreement compares it, not argmax. */
  public static final String LABEL_OUTPUT = "label";

  private ShadowComparator() {}

  /**
   * @param maxAbsDiff largest element-wise difference over the FP32 outputs present in both
   * @param top1Agree whether both pick the same class, or null when the first output is not a vector
   * @param cosine cosine similarity of the FP32 outputs with more than one element, the lowest over
   *     them (-1 when their sizes differ), or null when there are none: what agreement means for
   *     embeddings, whose elements all move a little under quantization while their direction holds
   */
  public record Comparison(double maxAbsDiff, Boolean top1Agree, Double cosine) {}

  public static Comparison compare(List<Tensor> primary, List<Tensor> shadow) {
    double maxDiff = 0;
    Boolean top1 = sameLabel(primary, shadow);
    Double cosine = null;
    for (Tensor p : primary) {
      Tensor s = find(shadow, p.getName());
      if (s == null || p.getDatatype() != Datatype.FP32 || s.getDatatype() != Datatype.FP32) {
        continue;
      }
      float[] a = floats(p);
      float[] b = floats(s);
      if (a.length != b.length) {
        return new Comparison(Double.POSITIVE_INFINITY, false, -1.0);
      }
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
      }
      if (a.length > 1) {
        if (top1 == null && !p.getName().equals(EMBEDDING_OUTPUT) && find(primary, LABEL_OUTPUT) == null) {
          top1 = argmax(a) == argmax(b);
        }
        double c = cosine(a, b);
        cosine = cosine == null ? c : Math.min(cosine, c);
      }
    }
    return new Comparison(maxDiff, top1, cosine);
  }

  /** Cosine similarity; two zero vectors are alike (1), a zero and a non-zero one are not (0). */
  public static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    if (na == 0 || nb == 0) {
      return na == nb ? 1 : 0;
    }
    // Rounding can put identical vectors a hair above 1; a similarity is at most 1.
    return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
  }

  /**
   * The class index the outputs pick: the argmax of the first FP32 vector, or -1 when they name their
   * class ({@value #LABEL_OUTPUT}) or are an embedding, whose argmax means nothing.
   */
  public static int top1(List<Tensor> outputs) {
    if (find(outputs, LABEL_OUTPUT) != null) {
      return -1;
    }
    for (Tensor t : outputs) {
      if (t.getDatatype() == Datatype.FP32 && !t.getName().equals(EMBEDDING_OUTPUT)) {
        float[] v = floats(t);
        if (v.length > 1) {
          return argmax(v);
        }
      }
    }
    return -1;
  }

  /** Whether both answers name the same class, or null when they do not name one. */
  private static Boolean sameLabel(List<Tensor> primary, List<Tensor> shadow) {
    Tensor p = find(primary, LABEL_OUTPUT);
    Tensor s = find(shadow, LABEL_OUTPUT);
    if (p == null || s == null || p.getDatatype() != Datatype.BYTES || s.getDatatype() != Datatype.BYTES) {
      return null;
    }
    // Both sides are written by the same worker code, so one form (raw or typed) on both.
    return java.util.Objects.equals(p.getRaw(), s.getRaw()) && java.util.Objects.equals(p.getData(), s.getData());
  }

  private static Tensor find(List<Tensor> tensors, String name) {
    return tensors.stream().filter(t -> t.getName().equals(name)).findFirst().orElse(null);
  }

  public static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  public static float[] floats(Tensor tensor) {
    if (tensor.getRaw() != null) {
      FloatBuffer fb = tensor.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      float[] out = new float[fb.remaining()];
      fb.get(out);
      return out;
    }
    List<Float> typed = tensor.getData() == null ? List.of() : tensor.getData().getFp32();
    float[] out = new float[typed.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = typed.get(i);
    }
    return out;
  }
}

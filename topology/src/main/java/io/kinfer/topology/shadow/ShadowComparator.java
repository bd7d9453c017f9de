package io.kinfer.topology.shadow;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.Tensor;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/** Compares a primary's and a shadow's outputs for one request. Pure; no Kafka. */
public final class ShadowComparator {
  private ShadowComparator() {}

  /**
   * @param maxAbsDiff largest element-wise difference over the FP32 outputs present in both
   * @param top1Agree whether both pick the same class, or null when the first output is not a vector
   */
  public record Comparison(double maxAbsDiff, Boolean top1Agree) {}

  public static Comparison compare(List<Tensor> primary, List<Tensor> shadow) {
    double maxDiff = 0;
    Boolean top1 = null;
    for (Tensor p : primary) {
      Tensor s = shadow.stream().filter(t -> t.getName().equals(p.getName())).findFirst().orElse(null);
      if (s == null || p.getDatatype() != Datatype.FP32 || s.getDatatype() != Datatype.FP32) {
        continue;
      }
      float[] a = floats(p);
      float[] b = floats(s);
      if (a.length != b.length) {
        return new Comparison(Double.POSITIVE_INFINITY, false);
      }
      for (int i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
      }
      if (top1 == null && a.length > 1) {
        top1 = argmax(a) == argmax(b);
      }
    }
    return new Comparison(maxDiff, top1);
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

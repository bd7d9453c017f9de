package io.kinfer.dev.bench;

import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.engine.OnnxEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows per second through the engine at several batch sizes: the whole engine path (validation,
 * input assembly, ONNX Runtime, output split), measured for a fixed time after a warm-up.
 */
final class EngineBench {
  private EngineBench() {}

  static Map<Integer, Double> rowsPerSecond(OnnxEngine engine, ModelVersion version, RequestFactory factory,
      int[] batchSizes, double secondsEach) {
    Map<Integer, Double> out = new LinkedHashMap<>();
    for (int size : batchSizes) {
      List<InferenceRequest> batch = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        batch.add(factory.request(i));
      }
      long warmUntil = System.nanoTime() + (long) (0.3e9);
      while (System.nanoTime() < warmUntil) {
        engine.infer(version, batch);
      }
      long rows = 0;
      long start = System.nanoTime();
      long end = start + (long) (secondsEach * 1e9);
      long now;
      do {
        engine.infer(version, batch);
        rows += size;
        now = System.nanoTime();
      } while (now < end);
      out.put(size, rows / ((now - start) / 1e9));
    }
    return out;
  }

  /** Share of {@code n} requests on which two versions pick the same class. */
  static double top1Agreement(OnnxEngine engine, ModelVersion a, ModelVersion b, RequestFactory factory, int n) {
    List<InferenceRequest> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      batch.add(factory.request(i));
    }
    var ra = engine.infer(a, batch).outcomes();
    var rb = engine.infer(b, batch).outcomes();
    int agree = 0;
    for (int i = 0; i < n; i++) {
      agree += ShadowComparator.compare(ra.get(i).outputs(), rb.get(i).outputs()).top1Agree() ? 1 : 0;
    }
    return (double) agree / n;
  }
}

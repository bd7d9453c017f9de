package io.kinfer.ops.bench;

import io.kinfer.ops.load.RequestFactory;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
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
}

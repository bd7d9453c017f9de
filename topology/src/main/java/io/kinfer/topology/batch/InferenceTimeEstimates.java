package io.kinfer.topology.batch;

import io.kinfer.topology.ModelVersion;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Recent batch inference time per model version (exponentially weighted), written by the infer
 * step and read by the batcher to flush early enough for request deadlines.
 */
public final class InferenceTimeEstimates {
  private static final double WEIGHT = 0.2;
  private final Map<ModelVersion, Double> millis = new ConcurrentHashMap<>();

  public void record(ModelVersion version, double batchMillis) {
    millis.merge(version, batchMillis, (old, now) -> old + WEIGHT * (now - old));
  }

  public long expectedMillis(ModelVersion version) {
    return (long) Math.ceil(millis.getOrDefault(version, 0.0));
  }
}

package io.kinfer.topology.infer;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import java.util.List;
import java.util.Set;

/**
 * Runs a whole batch of requests for one model version. The topology never knows the backend
 * (ONNX Runtime on CPU or CUDA, or a test engine); implementations must be thread-safe, since every
 * stream thread calls the same engine.
 */
public interface InferenceEngine extends AutoCloseable {

  /** Versions that are loaded, verified and ready to serve. */
  Set<ModelVersion> loaded();

  /**
   * Infers every request in one call where possible. A request the model cannot accept (wrong
   * shape, datatype, missing input) gets a per-request error and does not fail its neighbours.
   * Throws only when the engine itself fails (then the whole batch is in doubt).
   */
  BatchResult infer(ModelVersion version, List<InferenceRequest> requests);

  /** The most rows the version takes in one call (model.json's max_batch_size); batches never exceed it. */
  default int maxBatchSize(ModelVersion version) {
    return Integer.MAX_VALUE;
  }

  /**
   * Runs a known-good input (the warm-up's) on the version: true when the engine answers it. Asked
   * only after a whole batch failed, to tell poison requests (the probe passes) from an engine
   * outage (it fails too). Engines that cannot tell say false, and every such failure counts as an
   * outage.
   */
  default boolean probe(ModelVersion version) {
    return false;
  }

  /** The engine without cross-thread merging: failure isolation retries single requests on it. */
  default InferenceEngine unmerged() {
    return this;
  }

  @Override
  default void close() {}
}

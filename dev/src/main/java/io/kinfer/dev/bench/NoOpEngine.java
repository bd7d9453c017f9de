package io.kinfer.dev.bench;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.InferenceEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Answers every request OK with no outputs: what is left is Kafka, Streams and Avro (pass-through). */
final class NoOpEngine implements InferenceEngine {
  private final Set<ModelVersion> loaded;

  NoOpEngine(ModelVersion version) {
    this.loaded = Set.of(version);
  }

  @Override
  public Set<ModelVersion> loaded() {
    return loaded;
  }

  @Override
  public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
    List<BatchResult.Outcome> outcomes = new ArrayList<>(requests.size());
    requests.forEach(r -> outcomes.add(BatchResult.Outcome.ok(List.of())));
    return new BatchResult(outcomes, 0);
  }
}

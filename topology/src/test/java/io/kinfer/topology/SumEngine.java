package io.kinfer.topology;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.InferenceEngine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import io.kinfer.topology.control.PlanPreparer;
import io.kinfer.topology.route.Plan;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A deterministic engine for topology tests: output "sum" = the sum of the FP32 input. Records
 * the size of every batch it was given, so tests see what the batcher did. (The real ONNX Runtime
 * engine is tested in the worker module.)
 */
public final class SumEngine implements InferenceEngine {
  public final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  /** The model's max_batch_size, as model.json would declare it. */
  public volatile int maxBatch = Integer.MAX_VALUE;
  private final Set<ModelVersion> loaded;

  public SumEngine(ModelVersion... loaded) {
    this.loaded = Set.of(loaded);
  }

  @Override
  public Set<ModelVersion> loaded() {
    return loaded;
  }

  @Override
  public int maxBatchSize(ModelVersion version) {
    return maxBatch;
  }

  @Override
  public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
    batchSizes.add(requests.size());
    List<BatchResult.Outcome> outcomes = new ArrayList<>();
    for (InferenceRequest request : requests) {
      Tensor input = request.getInputs().get(0);
      if (input.getDatatype() != Datatype.FP32) {
        outcomes.add(BatchResult.Outcome.failed("expected FP32, got " + input.getDatatype()));
        continue;
      }
      ByteBuffer raw = input.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
      float sum = 0;
      while (raw.remaining() >= 4) {
        sum += raw.getFloat();
      }
      // Version 2 doubles the sum and adds a second class score, so shadow comparisons differ
      // from version 1 in a known way.
      float scale = "2".equals(version.version()) ? 2 : 1;
      outcomes.add(BatchResult.Outcome.ok(List.of(fp32("scores", sum * scale, 1 - sum))));
    }
    return new BatchResult(outcomes, 1_000);
  }

  /** Accepts a plan when all its versions are among {@code loaded}. */
  public static PlanPreparer preparer(Set<ModelVersion> loaded) {
    return new PlanPreparer() {
      @Override
      public void prepare(Plan plan) {
        for (String v : plan.versions()) {
          if (!loaded.contains(new ModelVersion(plan.model(), v))) {
            throw new IllegalArgumentException("version " + v + " of " + plan.model() + " is not loadable");
          }
        }
      }

      @Override
      public void retire(Collection<Plan> inForce) {}
    };
  }

  public static Tensor fp32(String name, float... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    buf.flip();
    return Tensor.newBuilder().setName(name).setDatatype(Datatype.FP32)
        .setShape(List.of(1L, (long) values.length)).setRaw(buf).build();
  }
}

package io.kinfer.topology;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.InferenceEngine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
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
  private final Set<ModelVersion> loaded;

  public SumEngine(ModelVersion... loaded) {
    this.loaded = Set.of(loaded);
  }

  @Override
  public Set<ModelVersion> loaded() {
    return loaded;
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
      outcomes.add(BatchResult.Outcome.ok(List.of(fp32("sum", sum))));
    }
    return new BatchResult(outcomes, 1_000);
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

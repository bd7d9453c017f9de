package io.kinfer.topology.publish;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.Timings;
import java.time.Instant;
import java.util.List;

/** Builds the one response each request gets. */
public final class Responses {
  private Responses() {}

  /** A response decided before batching (unknown model, overload): no version ran. */
  public static InferenceResponse unbatched(InferenceRequest request, long recordTimestamp,
      Status status, String error, String worker) {
    return InferenceResponse.newBuilder()
        .setId(request.getId()).setModel(request.getModel()).setVersion(request.getVersion())
        .setStatus(status).setError(error).setWorker(worker)
        .setTimings(new Timings(Instant.ofEpochMilli(recordTimestamp), 0L, 0L, 0))
        .build();
  }

  /** A response for a request that went through a batch. */
  public static InferenceResponse batched(BufferedRequest buffered, Status status, String error,
      List<Tensor> outputs, long queueWaitMicros, long inferenceMicros, int batchSize, String worker) {
    InferenceRequest request = buffered.getRequest();
    return InferenceResponse.newBuilder()
        .setId(request.getId()).setModel(request.getModel()).setVersion(buffered.getVersion())
        .setVariant(buffered.getVariant()).setPlanGeneration(buffered.getPlanGeneration())
        .setStatus(status).setError(error).setOutputs(outputs).setWorker(worker)
        .setTimings(new Timings(Instant.ofEpochMilli(buffered.getRecordTimestamp()),
            queueWaitMicros, inferenceMicros, batchSize))
        .build();
  }
}

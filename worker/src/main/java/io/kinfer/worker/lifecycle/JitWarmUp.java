package io.kinfer.worker.lifecycle;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.topology.publish.Responses;
import io.kinfer.worker.engine.LoadedModel;
import io.kinfer.worker.engine.OnnxEngine;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs synthetic batches through the path a request takes inside the worker (Avro wire-format
 * decode, the batch buffer's record, the engine, the response and its encoding) before the worker
 * joins its group. A fresh JVM otherwise compiles these methods while it serves its first
 * partitions: answers are slow exactly when a scale-up was meant to add capacity.
 *
 * <p>The serdes are the worker's own classes on a registry of their own, so nothing is registered
 * on the real Schema Registry; Kafka's client code stays cold (it needs the broker).
 */
public final class JitWarmUp {
  /** Subjects on the warm-up's own registry, one per record type. */
  private static final String REQUESTS = "warm-up-requests";
  private static final String BUFFER = "warm-up-buffer";
  private static final String PREDICTIONS = "warm-up-predictions";

  /**
   * What a warm-up did; compilation is the JVM's JIT time meanwhile (0 where the JVM does not say);
   * cold and warm: requests/s through the path in the first and in the last fifth of the budget,
   * what a worker joining without a warm-up would have served at first, and then.
   */
  public record Report(Map<ModelVersion, Integer> batches, int requests, int failed, long millis, long compilationMillis,
      double coldPerSecond, double warmPerSecond) {
    public int totalBatches() {
      return batches.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private JitWarmUp() {}

  /**
   * Cycles every loaded version through batch sizes 1, 2, 4, ... 128 (within its max batch size) and
   * variable dimensions of 4 to 64 until {@code budget} has passed (0: nothing runs).
   */
  public static Report run(OnnxEngine engine, Duration budget, String worker) {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    long jitBefore = jitMillis(jit);
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    AvroWireSerializer<InferenceRequest> requestOut = new AvroWireSerializer<>(registry, InferenceRequest.getClassSchema(), false);
    AvroWireDeserializer<InferenceRequest> requestIn = new AvroWireDeserializer<>(registry, InferenceRequest.getClassSchema());
    AvroWireSerializer<BufferedRequest> bufferOut = new AvroWireSerializer<>(registry, BufferedRequest.getClassSchema(), false);
    AvroWireDeserializer<BufferedRequest> bufferIn = new AvroWireDeserializer<>(registry, BufferedRequest.getClassSchema());
    AvroWireSerializer<InferenceResponse> responseOut = new AvroWireSerializer<>(registry, InferenceResponse.getClassSchema(), false);
    Map<ModelVersion, Integer> batches = new LinkedHashMap<>();
    int requests = 0;
    int failed = 0;
    int round = 0;
    long fifth = budget.toNanos() / 5;
    int cold = 0;
    int warm = 0;
    while (System.nanoTime() < deadline && !engine.loaded().isEmpty()) {
      for (ModelVersion version : engine.loaded()) {
        if (System.nanoTime() >= deadline) {
          break; // a round of large batches of a large model can take seconds: the budget is checked per batch
        }
        int size = Math.max(1, Math.min(1 << (round % 8), engine.maxBatchSize(version)));
        int length = 4 << (round % 5);
        List<BufferedRequest> buffered = new ArrayList<>(size);
        List<InferenceRequest> batch = new ArrayList<>(size);
        LoadedModel model = engine.model(version);
        for (int i = 0; i < size; i++) {
          InferenceRequest sample = model.sampleRequest("warm-up-" + (requests + i), length);
          InferenceRequest request = requestIn.deserialize(REQUESTS, requestOut.serialize(REQUESTS, sample));
          BufferedRequest entry = BufferedRequest.newBuilder().setKey(request.getId()).setRequest(request)
              .setVersion(version.version()).setVariant("PRIMARY").setRecordTimestamp(System.currentTimeMillis())
              .setEnqueuedAtMs(System.currentTimeMillis()).build();
          entry = bufferIn.deserialize(BUFFER, bufferOut.serialize(BUFFER, entry));
          buffered.add(entry);
          batch.add(entry.getRequest());
        }
        BatchResult result = engine.infer(version, batch);
        for (int i = 0; i < size; i++) {
          Outcome outcome = result.outcomes().get(i);
          failed += outcome.isOk() ? 0 : 1;
          responseOut.serialize(PREDICTIONS, Responses.batched(buffered.get(i), outcome.isOk() ? Status.OK : Status.ERROR,
              outcome.error(), outcome.isOk() ? outcome.outputs() : List.of(), 0, result.engineNanos() / 1000, size, worker));
        }
        batches.merge(version, 1, Integer::sum);
        requests += size;
        long elapsed = System.nanoTime() - start;
        cold += elapsed <= fifth ? size : 0;
        warm += elapsed >= deadline - start - fifth ? size : 0;
      }
      round++;
    }
    double fifthSeconds = fifth / 1e9;
    return new Report(batches, requests, failed, (System.nanoTime() - start) / 1_000_000, jitMillis(jit) - jitBefore,
        fifth == 0 ? 0 : cold / fifthSeconds, fifth == 0 ? 0 : warm / fifthSeconds);
  }

  private static long jitMillis(CompilationMXBean jit) {
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
  }
}

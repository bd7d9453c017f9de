package io.kinfer.topology.infer;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.batch.Batch;
import io.kinfer.topology.batch.InferenceTimeEstimates;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import io.kinfer.topology.shadow.ShadowWork;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one batch through the {@link InferenceEngine} and forwards exactly one response per request:
 * EXPIRED for requests past their deadline (not inferred), OK or ERROR for the rest. Requests
 * sampled for shadow versions are then handed to the shadow step with their primary outcome.
 */
public final class InferProcessor implements Processor<String, Batch, String, Object> {
  private static final Logger LOG = LoggerFactory.getLogger(InferProcessor.class);

  private final InferenceEngine engine;
  private final InferenceTimeEstimates estimates;
  private final PipelineMetrics metrics;
  private final String workerId;
  private final String publishChild;
  private final String shadowChild;
  private ProcessorContext<String, Object> context;

  public InferProcessor(InferenceEngine engine, InferenceTimeEstimates estimates,
      PipelineMetrics metrics, String workerId, String publishChild, String shadowChild) {
    this.engine = engine;
    this.publishChild = publishChild;
    this.shadowChild = shadowChild;
    this.estimates = estimates;
    this.metrics = metrics;
    this.workerId = workerId;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, Batch> record) {
    Batch batch = record.value();
    long now = context.currentSystemTimeMs();
    List<BufferedRequest> live = new ArrayList<>(batch.requests().size());
    for (BufferedRequest request : batch.requests()) {
      if (isExpired(request.getRequest(), now)) {
        publish(request, Responses.batched(request, Status.EXPIRED,
            "Deadline passed before inference", List.of(), queueWaitMicros(request, now), 0, 0, workerId));
      } else {
        live.add(request);
      }
    }
    if (!live.isEmpty()) {
      run(batch.version(), live, now);
    }
  }

  private void run(ModelVersion version, List<BufferedRequest> live, long now) {
    List<InferenceRequest> requests = new ArrayList<>(live.size());
    live.forEach(r -> requests.add(r.getRequest()));
    BatchResult result;
    try {
      result = engine.infer(version, requests);
    } catch (RuntimeException e) {
      LOG.warn("Inference failed for a batch of {} on {}: {}", live.size(), version, e.toString());
      for (BufferedRequest request : live) {
        publish(request, Responses.batched(request, Status.ERROR, "Inference engine failed: " + e,
            List.of(), queueWaitMicros(request, now), 0, live.size(), workerId));
      }
      return;
    }
    long inferenceMicros = TimeUnit.NANOSECONDS.toMicros(result.engineNanos());
    estimates.record(version, result.engineNanos() / 1e6);
    metrics.batch(version, live.size(), result.engineNanos());
    List<BufferedRequest> shadowed = new ArrayList<>();
    List<BatchResult.Outcome> shadowedOutcomes = new ArrayList<>();
    for (int i = 0; i < live.size(); i++) {
      BufferedRequest request = live.get(i);
      BatchResult.Outcome outcome = result.outcomes().get(i);
      long waited = queueWaitMicros(request, now);
      metrics.queueWait(version, waited);
      publish(request, Responses.batched(request, outcome.isOk() ? Status.OK : Status.ERROR,
          outcome.error(), outcome.outputs(), waited, inferenceMicros, live.size(), workerId));
      if (outcome.isOk() && !request.getShadows().isEmpty()) {
        shadowed.add(request);
        shadowedOutcomes.add(outcome);
      }
    }
    if (!shadowed.isEmpty()) {
      // After the primary answers are forwarded: a shadow can delay the commit, never the answers' content.
      context.forward(new Record<String, Object>(version.toString(),
          new ShadowWork(version, shadowed, shadowedOutcomes, inferenceMicros), now), shadowChild);
    }
  }

  private void publish(BufferedRequest request, InferenceResponse response) {
    metrics.response(response);
    context.forward(new Record<String, Object>(request.getKey(), response, context.currentSystemTimeMs(),
        ResponseHeaders.of(response)), publishChild);
  }

  private static boolean isExpired(InferenceRequest request, long now) {
    return request.getDeadline() != null && request.getDeadline().toEpochMilli() <= now;
  }

  private static long queueWaitMicros(BufferedRequest request, long now) {
    return Math.max(0, now - request.getEnqueuedAtMs()) * 1000;
  }
}

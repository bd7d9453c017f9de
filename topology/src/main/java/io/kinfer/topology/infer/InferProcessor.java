package io.kinfer.topology.infer;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ReceivedRecord;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.batch.Batch;
import io.kinfer.topology.batch.AdaptiveBatching;
import io.kinfer.topology.batch.InferenceTimeEstimates;
import io.kinfer.topology.errors.DeadLetters;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one batch through the {@link InferenceEngine} (via {@link FailureIsolation}) and forwards exactly one response per request:
 * EXPIRED for requests past their deadline (not inferred), OK or ERROR for the rest (an ERROR also
 * leaves a dead-letter copy; a failing batch is isolated by {@link FailureIsolation}). Requests
 * sampled for shadow versions are then handed to the shadow step with their primary outcome.
 */
public final class InferProcessor implements Processor<String, Batch, Object, Object> {
  private static final Logger LOG = LoggerFactory.getLogger(InferProcessor.class);

  private final InferenceTimeEstimates estimates;
  private final AdaptiveBatching adaptive;
  private final PipelineMetrics metrics;
  private final String workerId;
  private final String publishChild;
  private final String shadowChild;
  private final String deadLetterChild;
  private final String requestsTopic;
  private final FailureIsolation isolation;
  private final EngineHealth health;
  private ProcessorContext<Object, Object> context;

  public InferProcessor(InferenceTimeEstimates estimates, AdaptiveBatching adaptive, PipelineMetrics metrics,
      String workerId, String publishChild, String shadowChild, String deadLetterChild, String requestsTopic,
      FailureIsolation isolation, EngineHealth health) {
    this.publishChild = publishChild;
    this.shadowChild = shadowChild;
    this.deadLetterChild = deadLetterChild;
    this.requestsTopic = requestsTopic;
    this.isolation = isolation;
    this.health = health;
    this.estimates = estimates;
    this.adaptive = adaptive;
    this.metrics = metrics;
    this.workerId = workerId;
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, Batch> record) {
    Batch batch = record.value();
    long now = context.currentSystemTimeMs();
    List<BufferedRequest> live = new ArrayList<>(batch.requests().size());
    for (BufferedRequest request : batch.requests()) {
      if (!isExpired(request.getRequest(), now)) {
        live.add(request);
      }
    }
    BatchResult result = live.isEmpty() ? null : run(batch.version(), live);
    // Answers go out in the batch's (arrival) order, expired ones included: a consumer that keeps
    // the latest answer per key must not see an older request's answer last.
    long inferenceMicros = result == null ? 0 : TimeUnit.NANOSECONDS.toMicros(result.engineNanos());
    long oldestWaitMicros = 0;
    List<BufferedRequest> shadowed = new ArrayList<>();
    List<BatchResult.Outcome> shadowedOutcomes = new ArrayList<>();
    int next = 0;
    for (BufferedRequest request : batch.requests()) {
      long waited = queueWaitMicros(request, now);
      if (next >= live.size() || live.get(next) != request) {
        publish(request, Responses.batched(request, Status.EXPIRED,
            "Deadline passed before inference", List.of(), waited, 0, 0, workerId));
        continue;
      }
      BatchResult.Outcome outcome = result.outcomes().get(next++);
      oldestWaitMicros = Math.max(oldestWaitMicros, waited);
      metrics.queueWait(batch.version(), waited);
      publish(request, Responses.batched(request, outcome.isOk() ? Status.OK : Status.ERROR,
          outcome.error(), outcome.outputs(), waited, inferenceMicros, live.size(), workerId));
      if (!outcome.isOk()) {
        deadLetter(request, outcome);
      }
      if (outcome.isOk() && !request.getShadows().isEmpty()) {
        shadowed.add(request);
        shadowedOutcomes.add(outcome);
      }
    }
    if (result == null) {
      return;
    }
    adaptive.observe(batch.version(), live.size(), oldestWaitMicros / 1000, result.engineNanos() / 1e6);
    if (!shadowed.isEmpty()) {
      // After the primary answers are forwarded: a shadow can delay the commit, never the answers' content.
      context.forward(new Record<Object, Object>(batch.version().toString(),
          new ShadowWork(batch.version(), shadowed, shadowedOutcomes, inferenceMicros), now), shadowChild);
    }
  }

  /** One isolated engine run of the live requests, with its health and timing bookkeeping. */
  private BatchResult run(ModelVersion version, List<BufferedRequest> live) {
    List<InferenceRequest> requests = new ArrayList<>(live.size());
    live.forEach(r -> requests.add(r.getRequest()));
    FailureIsolation.Isolated isolated = isolation.run(version, requests);
    BatchResult result = isolated.result();
    if (isolated.engineDown()) {
      String why = result.outcomes().get(0).error();
      LOG.error("Engine failed every request of a batch of {} on {} after retries: {}", live.size(), version, why);
      health.failing(version + ": " + why);
    } else {
      health.serving();
      if (isolated.engineCalls() > 1) {
        LOG.warn("Batch of {} on {} needed {} engine calls to isolate failing requests", live.size(), version,
            isolated.engineCalls());
      }
    }
    estimates.record(version, result.engineNanos() / 1e6);
    metrics.batch(version, live.size(), result.engineNanos());
    return result;
  }

  private void deadLetter(BufferedRequest request, BatchResult.Outcome outcome) {
    String error = outcome.error();
    String kind = outcome.failure() == BatchResult.Failure.ENGINE ? "EngineFailure" : "InvalidRequest";
    ReceivedRecord received = request.getReceived();
    Record<Object, Object> copy = received != null
        ? new Record<>(DeadLetters.bytes(received.getKey()), DeadLetters.bytes(received.getValue()),
            request.getRecordTimestamp(), DeadLetters.headers(DeadLetters.headers(received), kind, error,
                DeadLetters.STAGE_INFER, requestsTopic, request.getSourcePartition(), request.getSourceOffset()))
        // buffered by an older worker, without the bytes as read: re-encoded by the sink
        : new Record<>(request.getKey(), request.getRequest(), request.getRecordTimestamp(),
            DeadLetters.headers(kind, error, DeadLetters.STAGE_INFER, requestsTopic, request));
    context.forward(copy, deadLetterChild);
    metrics.deadLetter(DeadLetters.STAGE_INFER);
  }

  private void publish(BufferedRequest request, InferenceResponse response) {
    metrics.response(response);
    context.forward(new Record<Object, Object>(request.getKey(), response, context.currentSystemTimeMs(),
        ResponseHeaders.of(response)), publishChild);
  }

  private static boolean isExpired(InferenceRequest request, long now) {
    return request.getDeadline() != null && request.getDeadline().toEpochMilli() <= now;
  }

  private static long queueWaitMicros(BufferedRequest request, long now) {
    return Math.max(0, now - request.getEnqueuedAtMs()) * 1000;
  }
}

package io.kinfer.topology.infer;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ReceivedRecord;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.batch.AdaptiveBatching;
import io.kinfer.topology.batch.Batch;
import io.kinfer.topology.batch.BatchesInFlight;
import io.kinfer.topology.batch.InferenceTimeEstimates;
import io.kinfer.topology.errors.DeadLetters;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one batch through the {@link InferenceEngine} (via {@link FailureIsolation}) and forwards exactly one response per request:
 * EXPIRED for requests past their deadline (not inferred), OK or ERROR for the rest (an ERROR also
 * leaves a dead-letter copy; a failing batch is isolated by {@link FailureIsolation}). Requests
 * sampled for shadow versions are then handed to the shadow step with their primary outcome.
 *
 * <p>The engine call runs on {@code engineThreads}, so the stream thread goes on reading, buffering
 * and committing while a batch runs (with one thread the exactly-once commit after each batch left
 * the engine idle). The answers are forwarded from the stream thread (a punctuator looks for the
 * finished run), and only then are the batch's requests deleted from the buffer store: a commit
 * taken while the batch runs still holds them, so a crash re-runs them and loses nothing, and a
 * task closed meanwhile (rebalance) drops the run unanswered for its next owner. A direct executor
 * runs the batch inside {@link #process}, as topology tests do.
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
  private final String storeName;
  private final BatchesInFlight inFlight;
  private final Executor engineThreads;
  private final Duration checkInterval;
  private ProcessorContext<Object, Object> context;
  private KeyValueStore<String, BufferedRequest> store;
  /** The batch at the engine, or null. */
  private Running running;

  /** A batch handed to the engine at {@code startedMs}; {@code live} are its unexpired requests. */
  private record Running(Batch batch, List<BufferedRequest> live, long startedMs, CompletableFuture<BatchResult> result) {}

  /** How long closing a task waits for its running batch before dropping it anyway. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

  /**
   * @param storeName the batch step's buffer store: answered requests are deleted from it here
   * @param engineThreads where engine calls run; {@code Runnable::run} runs them on the stream thread
   * @param checkInterval how often the stream thread looks for a finished run
   */
  public InferProcessor(InferenceTimeEstimates estimates, AdaptiveBatching adaptive, PipelineMetrics metrics,
      String workerId, String publishChild, String shadowChild, String deadLetterChild, String requestsTopic,
      FailureIsolation isolation, EngineHealth health, String storeName, BatchesInFlight inFlight,
      Executor engineThreads, Duration checkInterval) {
    this.storeName = storeName;
    this.inFlight = inFlight;
    this.engineThreads = engineThreads;
    this.checkInterval = checkInterval;
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
    this.store = context.getStateStore(storeName);
    inFlight.finished(context.taskId()); // a previous incarnation of this task may have been closed without close()
    context.schedule(checkInterval, PunctuationType.WALL_CLOCK_TIME, now -> answerIfDone());
  }

  @Override
  public void process(Record<String, Batch> record) {
    if (running != null) {
      // The batch step sends a full look-ahead on while the task's batch runs: waiting for it here
      // stops the stream thread reading, so under overload Kafka holds the excess as lag instead of
      // the heap, and the answers still leave in batch order.
      running.result().handle((r, e) -> null).join();
      answerIfDone();
    }
    Batch batch = record.value();
    long now = context.currentSystemTimeMs();
    List<BufferedRequest> live = new ArrayList<>(batch.requests().size());
    for (BufferedRequest request : batch.requests()) {
      if (!isExpired(request.getRequest(), now)) {
        live.add(request);
      }
    }
    CompletableFuture<BatchResult> result = live.isEmpty() ? CompletableFuture.completedFuture(null)
        : CompletableFuture.supplyAsync(() -> run(batch.version(), live), engineThreads);
    running = new Running(batch, live, now, result);
    inFlight.started(context.taskId());
    answerIfDone();
  }

  private void answerIfDone() {
    Running done = running;
    if (done == null || !done.result().isDone()) {
      return;
    }
    running = null;
    inFlight.finished(context.taskId());
    BatchResult result;
    try {
      result = done.result().join();
    } catch (CompletionException e) { // a bug, not an engine failure (those are outcomes): fail the thread as before
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
    answer(done.batch(), done.live(), done.startedMs(), result);
    for (String key : done.batch().storeKeys()) {
      store.put(key, null); // deletes like delete(key) but does not decode the old value back
    }
  }

  private void answer(Batch batch, List<BufferedRequest> live, long now, BatchResult result) {
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

  @Override
  public void close() {
    Running dropped = running;
    running = null;
    if (dropped == null) {
      return;
    }
    inFlight.finished(context.taskId());
    try { // the engine call cannot be interrupted; wait so a task taken over here does not overlap it
      dropped.result().get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("Closing task {} while its batch of {} on {} still runs after {}", context.taskId(),
          dropped.live().size(), dropped.batch().version(), CLOSE_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      // dropped either way: the next owner runs the batch again
    }
    LOG.info("Task {} closed with a batch of {} at the engine: left unanswered in its buffer for the task's next owner",
        context.taskId(), dropped.batch().requests().size());
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

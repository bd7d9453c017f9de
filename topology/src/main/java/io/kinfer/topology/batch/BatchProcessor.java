package io.kinfer.topology.batch;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Buffers routed requests per model version in a changelogged store and dispatches a batch when
 * the model's {@link BatchPolicy} says so: on size as a request arrives, on time (max wait, deadlines) from a
 * wall-clock punctuator. The store is the source of truth (a crash loses nothing: under
 * exactly-once the input offset commits with the changelog); the in-memory index holds the same
 * requests so a dispatch needs no store reads, and is rebuilt from the store on start. A request
 * dispatched within the commit interval it arrived in never reaches the changelog
 * ({@link TransientTombstones}). A dispatched batch stays in the store until the infer step has
 * answered it (it deletes the entries then), and while a task's batch is at the engine
 * ({@link BatchesInFlight}) the task's next one waits, so the requests that arrive meanwhile join
 * it, until enough wait to fill the look-ahead: that batch goes at once and the stream thread waits
 * for the running one (reading no further ahead: under overload the excess stays in Kafka).
 */
public final class BatchProcessor implements Processor<String, BufferedRequest, String, Object> {
  private static final char SEP = '\u0000';

  private final String storeName;
  private final String inferChild;
  private final String rejectChild;
  private final Function<String, BatchPolicy> policies;
  private final ToIntFunction<ModelVersion> modelMaxBatch;
  private final Duration punctuateInterval;
  private final int maxBuffered;
  private final InferenceTimeEstimates estimates;
  private final AdaptiveBatching adaptive;
  private final PipelineMetrics metrics;
  private final String workerId;
  private final BatchesInFlight inFlight;

  private final Map<ModelVersion, WaitingRequests> groups = new HashMap<>();
  private ProcessorContext<String, Object> context;
  private KeyValueStore<String, BufferedRequest> store;
  private long nextSeq;
  private int buffered;
  /** This task's share of the buffered gauges, taken back when the task closes (e.g. on a rebalance). */
  private final Map<String, Long> reported = new HashMap<>();

  /**
   * @param modelMaxBatch the most rows a version takes in one call (its model.json); caps every batch
   * @param inFlight the tasks whose batch the infer step is running, shared with it
   */
  public BatchProcessor(String storeName, String inferChild, String rejectChild, Function<String, BatchPolicy> policies,
      ToIntFunction<ModelVersion> modelMaxBatch, Duration punctuateInterval, int maxBuffered, InferenceTimeEstimates estimates, AdaptiveBatching adaptive,
      PipelineMetrics metrics, String workerId, BatchesInFlight inFlight) {
    this.storeName = storeName;
    this.inferChild = inferChild;
    this.rejectChild = rejectChild;
    this.policies = policies;
    this.modelMaxBatch = modelMaxBatch;
    this.punctuateInterval = punctuateInterval;
    this.maxBuffered = maxBuffered;
    this.estimates = estimates;
    this.adaptive = adaptive;
    this.metrics = metrics;
    this.workerId = workerId;
    this.inFlight = inFlight;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.store = context.getStateStore(storeName);
    TransientTombstones.skip(store);
    rebuildIndex();
    context.schedule(punctuateInterval, PunctuationType.WALL_CLOCK_TIME, this::dispatchDue);
  }

  @Override
  public void process(Record<String, BufferedRequest> record) {
    BufferedRequest request = record.value();
    if (buffered >= maxBuffered) {
      var response = Responses.unbatched(request.getRequest(), request.getRecordTimestamp(),
          Status.REJECTED, "Overloaded: " + buffered + " requests buffered (limit " + maxBuffered
              + "); retry later or add workers", workerId);
      context.forward(new Record<String, Object>(record.key(), response, context.currentSystemTimeMs(),
          ResponseHeaders.of(response)), rejectChild);
      metrics.response(response);
      return;
    }
    ModelVersion version = new ModelVersion(request.getRequest().getModel(), request.getVersion());
    String key = storeKey(version, nextSeq++);
    store.put(key, request);
    WaitingRequests group = groups.computeIfAbsent(version, v -> new WaitingRequests());
    group.add(key, request);
    buffered++;
    report(version.model(), 1);
    BatchPolicy policy = policy(version);
    // Full: dispatched even while the task's batch runs (the infer step then waits for that one),
    // so a task never reads further ahead than its look-ahead: backpressure is Kafka's lag.
    if (group.full(policy.maxBatchSize(), policy.maxBatchElements())) {
      dispatch(version, group, policy, context.currentSystemTimeMs());
    }
  }

  private void dispatchDue(long nowMs) {
    for (Map.Entry<ModelVersion, WaitingRequests> entry : groups.entrySet()) {
      WaitingRequests group = entry.getValue();
      BatchPolicy policy = policy(entry.getKey());
      long expected = estimates.expectedMillis(entry.getKey());
      while (group.size() > 0 && !atEngine() && policy.decide(group.size(), group.full(policy.maxBatchSize(),
          policy.maxBatchElements()), group.waitingSinceMs(nowMs, expected), group.earliestDeadlineMs(), nowMs, expected) == 0) {
        dispatch(entry.getKey(), group, policy, nowMs);
      }
      group.checked();
    }
  }

  private boolean atEngine() {
    return inFlight.holds(context.taskId());
  }

  /**
   * The configured (or plan's) bounds, narrowed by adaptive batching when a latency target is set,
   * never above the model's own max_batch_size.
   */
  private BatchPolicy policy(ModelVersion version) {
    BatchPolicy policy = adaptive.limit(version, policies.apply(version.model()));
    int modelMax = modelMaxBatch.applyAsInt(version);
    return policy.maxBatchSize() > modelMax ? policy.with(modelMax, null) : policy;
  }

  private void dispatch(ModelVersion version, WaitingRequests group, BatchPolicy policy, long nowMs) {
    if (adaptive.enabled()) { // the limits move only with each batch's feedback: once per batch is enough
      metrics.batchLimits(version, policy.maxBatchSize(), policy.maxWaitMs());
    }
    List<BufferedRequest> requests = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (WaitingRequests.Entry entry : group.take(policy.maxBatchSize(), policy.maxBatchElements())) {
      requests.add(entry.request());
      keys.add(entry.storeKey());
    }
    buffered -= requests.size();
    report(version.model(), -requests.size());
    if (!requests.isEmpty()) {
      // Unless inference runs on an engine thread, the forward runs the batch: the stream thread's
      // clock stands still meanwhile.
      long started = System.nanoTime();
      context.forward(new Record<>(version.toString(), new Batch(version, requests, keys, nowMs), nowMs), inferChild);
      group.dispatched(nowMs, nowMs + (System.nanoTime() - started) / 1_000_000);
    }
  }

  private void report(String model, long delta) {
    reported.merge(model, delta, Long::sum);
    metrics.buffered(model, delta);
  }

  @Override
  public void close() {
    reported.forEach((model, count) -> metrics.buffered(model, -count));
    reported.clear();
  }

  private void rebuildIndex() {
    close();
    groups.clear();
    buffered = 0;
    nextSeq = 0;
    try (KeyValueIterator<String, BufferedRequest> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, BufferedRequest> entry = it.next();
        String[] parts = entry.key.split(String.valueOf(SEP), 3);
        ModelVersion version = new ModelVersion(parts[0], parts[1]);
        groups.computeIfAbsent(version, v -> new WaitingRequests()).add(entry.key, entry.value);
        nextSeq = Math.max(nextSeq, Long.parseUnsignedLong(parts[2], 16) + 1);
        buffered++;
        report(version.model(), 1);
      }
    }
  }

  /** Model, version, then a zero-padded sequence, so a scan returns arrival order per group. */
  private static String storeKey(ModelVersion version, long seq) {
    String hex = Long.toHexString(seq);
    return version.model() + SEP + version.version() + SEP + "0".repeat(16 - hex.length()) + hex;
  }

}

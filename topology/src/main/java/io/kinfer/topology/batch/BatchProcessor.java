package io.kinfer.topology.batch;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
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
 * ({@link TransientTombstones}).
 */
public final class BatchProcessor implements Processor<String, BufferedRequest, String, Object> {
  private static final char SEP = '\u0000';

  private final String storeName;
  private final String inferChild;
  private final String rejectChild;
  private final Function<String, BatchPolicy> policies;
  private final Duration punctuateInterval;
  private final int maxBuffered;
  private final InferenceTimeEstimates estimates;
  private final AdaptiveBatching adaptive;
  private final PipelineMetrics metrics;
  private final String workerId;

  private final Map<ModelVersion, Group> groups = new HashMap<>();
  private ProcessorContext<String, Object> context;
  private KeyValueStore<String, BufferedRequest> store;
  private long nextSeq;
  private int buffered;

  public BatchProcessor(String storeName, String inferChild, String rejectChild, Function<String, BatchPolicy> policies,
      Duration punctuateInterval, int maxBuffered, InferenceTimeEstimates estimates, AdaptiveBatching adaptive,
      PipelineMetrics metrics, String workerId) {
    this.storeName = storeName;
    this.inferChild = inferChild;
    this.rejectChild = rejectChild;
    this.policies = policies;
    this.punctuateInterval = punctuateInterval;
    this.maxBuffered = maxBuffered;
    this.estimates = estimates;
    this.adaptive = adaptive;
    this.metrics = metrics;
    this.workerId = workerId;
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
    Group group = groups.computeIfAbsent(version, v -> new Group());
    group.add(key, request);
    buffered++;
    metrics.buffered(buffered);
    BatchPolicy policy = policy(version);
    if (group.size() >= policy.maxBatchSize()) {
      dispatch(version, group, policy, context.currentSystemTimeMs());
    }
  }

  private void dispatchDue(long nowMs) {
    for (Map.Entry<ModelVersion, Group> entry : groups.entrySet()) {
      Group group = entry.getValue();
      BatchPolicy policy = policy(entry.getKey());
      long expected = estimates.expectedMillis(entry.getKey());
      while (group.size() > 0
          && policy.decide(group.size(), group.oldestEnqueuedMs(), group.earliestDeadlineMs(), nowMs, expected) == 0) {
        dispatch(entry.getKey(), group, policy, nowMs);
      }
    }
  }

  /** The configured (or plan's) bounds, narrowed by adaptive batching when a latency target is set. */
  private BatchPolicy policy(ModelVersion version) {
    return adaptive.limit(version, policies.apply(version.model()));
  }

  private void dispatch(ModelVersion version, Group group, BatchPolicy policy, long nowMs) {
    if (adaptive.enabled()) { // the limits move only with each batch's feedback: once per batch is enough
      metrics.batchLimits(version, policy.maxBatchSize(), policy.maxWaitMs());
    }
    int n = Math.min(group.size(), policy.maxBatchSize());
    List<BufferedRequest> requests = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      BufferedRequest request = group.peekRequest();
      // put(key, null) deletes like delete(key) but does not decode the old value back.
      store.put(group.poll(), null);
      requests.add(request);
    }
    group.refreshEarliestDeadline();
    buffered -= n;
    metrics.buffered(buffered);
    if (!requests.isEmpty()) {
      context.forward(new Record<>(version.toString(), new Batch(version, requests, nowMs), nowMs), inferChild);
    }
  }

  private void rebuildIndex() {
    groups.clear();
    buffered = 0;
    nextSeq = 0;
    try (KeyValueIterator<String, BufferedRequest> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, BufferedRequest> entry = it.next();
        String[] parts = entry.key.split(String.valueOf(SEP), 3);
        ModelVersion version = new ModelVersion(parts[0], parts[1]);
        groups.computeIfAbsent(version, v -> new Group()).add(entry.key, entry.value);
        nextSeq = Math.max(nextSeq, Long.parseUnsignedLong(parts[2], 16) + 1);
        buffered++;
      }
    }
    metrics.buffered(buffered);
  }

  /** Model, version, then a zero-padded sequence, so a scan returns arrival order per group. */
  private static String storeKey(ModelVersion version, long seq) {
    String hex = Long.toHexString(seq);
    return version.model() + SEP + version.version() + SEP + "0".repeat(16 - hex.length()) + hex;
  }

  /** Index of one model version's buffered requests, oldest first. */
  private static final class Group {
    private final ArrayDeque<String> keys = new ArrayDeque<>();
    private final ArrayDeque<BufferedRequest> requests = new ArrayDeque<>();
    private final ArrayDeque<Long> deadlines = new ArrayDeque<>();
    private long earliestDeadline = BatchPolicy.NO_DEADLINE;

    void add(String key, BufferedRequest request) {
      keys.add(key);
      requests.add(request);
      long deadline = request.getRequest().getDeadline() == null
          ? BatchPolicy.NO_DEADLINE : request.getRequest().getDeadline().toEpochMilli();
      deadlines.add(deadline);
      earliestDeadline = Math.min(earliestDeadline, deadline);
    }

    BufferedRequest peekRequest() {
      return requests.peek();
    }

    String poll() {
      requests.poll();
      deadlines.poll();
      return keys.poll();
    }

    /** After polling a batch: the removed requests may have held the earliest deadline. */
    void refreshEarliestDeadline() {
      long earliest = BatchPolicy.NO_DEADLINE;
      for (long deadline : deadlines) {
        earliest = Math.min(earliest, deadline);
      }
      earliestDeadline = earliest;
    }

    int size() {
      return keys.size();
    }

    long oldestEnqueuedMs() {
      return requests.isEmpty() ? Long.MAX_VALUE : requests.peek().getEnqueuedAtMs();
    }

    long earliestDeadlineMs() {
      return earliestDeadline;
    }
  }
}

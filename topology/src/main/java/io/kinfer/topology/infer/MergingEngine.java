package io.kinfer.topology.infer;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Merges batches that several stream threads hand to the engine at the same time into one engine
 * call per model version (flat combining): a thread queues its batch and takes the version's lock;
 * whoever holds it runs everything queued as one call and hands each thread its slice. Nothing
 * waits on purpose: batches merge only when they would otherwise queue behind a running call, which
 * is what a GPU wants (one large call instead of several small ones contending for the device).
 * Per-request errors stay per request; if the merged call throws, every merged batch sees the
 * exception and {@link FailureIsolation} retries and isolates each on its own.
 */
public final class MergingEngine implements InferenceEngine {
  private final InferenceEngine engine;
  private final Map<ModelVersion, Combiner> combiners = new ConcurrentHashMap<>();
  private final LongAdder calls = new LongAdder();
  private final LongAdder batches = new LongAdder();

  public MergingEngine(InferenceEngine engine) {
    this.engine = engine;
  }

  @Override
  public Set<ModelVersion> loaded() {
    return engine.loaded();
  }

  @Override
  public InferenceEngine unmerged() {
    return engine.unmerged();
  }

  @Override
  public boolean probe(ModelVersion version) {
    return engine.probe(version);
  }

  @Override
  public int maxBatchSize(ModelVersion version) {
    return engine.maxBatchSize(version);
  }

  @Override
  public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
    return combiners.computeIfAbsent(version, Combiner::new).infer(requests);
  }

  /** Engine calls made so far. */
  public long engineCalls() {
    return calls.sum();
  }

  /** Batches handed in so far; batches / calls is the mean number merged per call. */
  public long batches() {
    return batches.sum();
  }

  @Override
  public void close() {
    engine.close();
  }

  /** One thread's batch, waiting for the slice of a merged call's result. */
  private static final class Pending {
    final List<InferenceRequest> requests;
    BatchResult result;
    RuntimeException failure;
    volatile boolean done;

    Pending(List<InferenceRequest> requests) {
      this.requests = requests;
    }
  }

  private final class Combiner {
    private final ModelVersion version;
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();

    Combiner(ModelVersion version) {
      this.version = version;
    }

    BatchResult infer(List<InferenceRequest> requests) {
      Pending mine = new Pending(requests);
      queue.add(mine);
      batches.increment();
      while (!mine.done) {
        lock.lock();
        try {
          if (!mine.done) {
            runQueued();
          }
        } finally {
          lock.unlock();
        }
      }
      if (mine.failure != null) {
        throw mine.failure;
      }
      return mine.result;
    }

    /**
     * Under the lock: what is queued (the oldest batch first) in one call of at most the model's
     * max_batch_size rows; batches that would push it over wait for the next call.
     */
    private void runQueued() {
      List<Pending> group = new ArrayList<>();
      List<InferenceRequest> merged = new ArrayList<>();
      int max = engine.maxBatchSize(version);
      for (Pending p = queue.peek(); p != null && (group.isEmpty() || merged.size() + p.requests.size() <= max);
          p = queue.peek()) {
        queue.poll();
        group.add(p);
        merged.addAll(p.requests);
      }
      calls.increment();
      try {
        BatchResult result = engine.infer(version, merged);
        int from = 0;
        for (Pending p : group) {
          int to = from + p.requests.size();
          p.result = group.size() == 1 ? result
              : new BatchResult(List.copyOf(result.outcomes().subList(from, to)), result.engineNanos());
          from = to;
        }
      } catch (RuntimeException e) {
        group.forEach(p -> p.failure = e);
      }
      // The volatile write publishes result/failure to the waiting threads.
      group.forEach(p -> p.done = true);
    }
  }
}

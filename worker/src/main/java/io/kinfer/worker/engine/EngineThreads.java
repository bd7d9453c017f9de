package io.kinfer.worker.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads batches run on when inference is pipelined: one per stream thread, so each stream
 * thread can have a batch at the engine while it reads and commits, and {@code merge.batches} can
 * still join the calls of several. Daemon threads: a worker that did not close cleanly does not
 * keep the JVM alive for them.
 */
public final class EngineThreads {
  private EngineThreads() {}

  public static ExecutorService start(int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, task -> {
      Thread t = new Thread(task, "kinfer-engine-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }
}

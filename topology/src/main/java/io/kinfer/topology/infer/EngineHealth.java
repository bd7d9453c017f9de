package io.kinfer.topology.infer;

import java.util.concurrent.atomic.AtomicReference;

/** Whether the engine is failing whole batches right now; read by the worker's /health. */
public final class EngineHealth {
  private final AtomicReference<String> problem = new AtomicReference<>();

  void failing(String why) {
    problem.set(why);
  }

  void serving() {
    problem.set(null);
  }

  /** Null while batches succeed, else the last engine failure. */
  public String problem() {
    return problem.get();
  }
}

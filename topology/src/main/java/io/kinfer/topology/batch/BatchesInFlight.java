package io.kinfer.topology.batch;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.processor.TaskId;

/**
 * The stream tasks whose batch is at the engine right now. The infer step marks a task while its
 * batch runs on an engine thread; the batch step holds that task's next batch back meanwhile, so
 * the requests that arrive during a run join the next batch (as they did when the run blocked the
 * stream thread), unless they already fill the look-ahead.
 */
public final class BatchesInFlight {
  private final Set<TaskId> tasks = ConcurrentHashMap.newKeySet();

  public boolean holds(TaskId task) {
    return tasks.contains(task);
  }

  public void started(TaskId task) {
    tasks.add(task);
  }

  public void finished(TaskId task) {
    tasks.remove(task);
  }
}

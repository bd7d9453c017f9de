package io.kinfer.topology;

import io.kinfer.topology.control.ControlEvents;
import io.kinfer.topology.route.Plan;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps what the control plane reported, for assertions. */
public final class RecordingEvents implements ControlEvents {
  public final List<Plan> applied = new CopyOnWriteArrayList<>();
  public final List<String> rejected = new CopyOnWriteArrayList<>();

  @Override
  public void applied(Plan plan, At at) {
    applied.add(plan);
  }

  @Override
  public void rejected(String model, long generation, String reason, At at) {
    rejected.add(model + "@" + generation + ": " + reason);
  }
}

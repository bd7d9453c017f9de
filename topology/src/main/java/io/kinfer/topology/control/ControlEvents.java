package io.kinfer.topology.control;

import io.kinfer.topology.route.Plan;

/** What the control plane reports (the worker publishes it on the status topic). */
public interface ControlEvents {
  void applied(Plan plan);

  void rejected(String model, long generation, String reason);
}

package io.kinfer.topology.control;

import io.kinfer.topology.route.Plan;
import java.util.Collection;

/**
 * Makes a plan's versions servable before the plan takes effect (load, verify, warm up), and lets
 * go of versions no plan needs any more. Implemented by the worker's model lifecycle.
 */
public interface PlanPreparer {

  /** Throws with the reason when a version of {@code plan} cannot serve; the old plan then stays. */
  void prepare(Plan plan);

  /** Called after a plan was applied, with every plan now in force. */
  void retire(Collection<Plan> inForce);
}

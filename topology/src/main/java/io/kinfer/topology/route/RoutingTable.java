package io.kinfer.topology.route;

import io.kinfer.schemas.InferenceRequest;
import java.util.Optional;

/** Decides which version serves a request; empty when the model is unknown. */
public interface RoutingTable {

  Optional<Assignment> assign(String key, InferenceRequest request);

  /** Human-readable list of what can be served, for error messages. */
  String describe();
}

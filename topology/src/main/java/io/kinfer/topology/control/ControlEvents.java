package io.kinfer.topology.control;

import io.kinfer.topology.route.Plan;

/**
 * What the control plane reports (the worker publishes it on the status topic), with where on the
 * control topic the command was read: Kafka Streams replays the whole topic through the control
 * processor at every start, so the same record is reported again after a restart and the position
 * is what tells a replay from a new command.
 */
public interface ControlEvents {
  /** A control record's partition and offset; {@link #UNKNOWN} when not read from Kafka. */
  record At(int partition, long offset) {
    public static final At UNKNOWN = new At(-1, -1);

    public boolean known() {
      return partition >= 0 && offset >= 0;
    }
  }

  void applied(Plan plan, At at);

  void rejected(String model, long generation, String reason, At at);
}

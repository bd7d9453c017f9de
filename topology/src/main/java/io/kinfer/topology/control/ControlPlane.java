package io.kinfer.topology.control;

/** What the control step of the topology needs from the worker. */
public record ControlPlane(CommandVerifier verifier, PlanPreparer preparer, ControlEvents events) {}

package io.kinfer.topology.route;

import io.kinfer.topology.ModelVersion;

/**
 * Where one request goes.
 *
 * @param variant the role that chose the version (PRIMARY, CANARY, VARIANT, PINNED)
 * @param planGeneration generation of the plan that made the choice (0 = static config)
 */
public record Assignment(ModelVersion version, String variant, long planGeneration) {}

package io.kinfer.topology.route;

import io.kinfer.topology.ModelVersion;
import java.util.List;

/**
 * Where one request goes.
 *
 * @param variant the role that chose the version (PRIMARY, CANARY, VARIANT, PINNED)
 * @param planGeneration generation of the plan that made the choice (0 = no plan, static config)
 * @param shadows versions that also run this request, for comparison only
 */
public record Assignment(ModelVersion version, String variant, long planGeneration, List<String> shadows) {}

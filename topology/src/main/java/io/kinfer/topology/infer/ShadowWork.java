package io.kinfer.topology.infer;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult.Outcome;
import java.util.List;

/**
 * Requests of one primary batch that also go to shadow versions, with what the primary answered:
 * what the infer stage hands the shadow stage (so shadow depends on infer, never the reverse).
 *
 * @param primaryMicros engine time of the primary batch
 */
public record ShadowWork(ModelVersion primary, List<BufferedRequest> requests, List<Outcome> primaryOutcomes,
    long primaryMicros) {}

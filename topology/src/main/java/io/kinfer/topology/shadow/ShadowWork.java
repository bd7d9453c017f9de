package io.kinfer.topology.shadow;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult.Outcome;
import java.util.List;

/**
 * Requests of one primary batch that also go to shadow versions, with what the primary answered.
 *
 * @param primaryMicros engine time of the primary batch
 */
public record ShadowWork(ModelVersion primary, List<BufferedRequest> requests, List<Outcome> primaryOutcomes,
    long primaryMicros) {}

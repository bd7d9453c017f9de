package io.kinfer.topology.batch;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.topology.ModelVersion;
import java.util.List;

/**
 * Requests for one model version, dispatched together; passed in memory to the infer step, which
 * deletes them from the buffer store (by {@code storeKeys}, in the same order) once they are answered.
 */
public record Batch(ModelVersion version, List<BufferedRequest> requests, List<String> storeKeys, long formedAtMs) {}

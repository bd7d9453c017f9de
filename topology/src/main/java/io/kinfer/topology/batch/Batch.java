package io.kinfer.topology.batch;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.topology.ModelVersion;
import java.util.List;

/** Requests for one model version, dispatched together; passed in memory to the infer step. */
public record Batch(ModelVersion version, List<BufferedRequest> requests, long formedAtMs) {}

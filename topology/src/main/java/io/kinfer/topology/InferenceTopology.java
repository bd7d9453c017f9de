package io.kinfer.topology;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.schemas.serde.AvroSerdes;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.batch.BatchPolicy;
import io.kinfer.topology.batch.BatchProcessor;
import io.kinfer.topology.batch.InferenceTimeEstimates;
import io.kinfer.topology.infer.InferProcessor;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.topology.route.RouteProcessor;
import io.kinfer.topology.route.RoutingTable;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the worker's topology as a pure function: requests → route → batch → infer → predictions.
 * Undecodable requests never reach it: the {@code errors.DeadLetterHandler} puts them on the
 * dead-letter topic. Every node and store is named; a golden-file test pins the names (renaming the
 * store would orphan its changelog and lose buffered requests on upgrade).
 */
public final class InferenceTopology {
  public static final String SOURCE = "requests-source";
  public static final String ROUTE = "route";
  public static final String BATCH = "batch";
  public static final String BATCH_STORE = "batch-buffer";
  public static final String INFER = "infer";
  public static final String PREDICTIONS_SINK = "predictions-sink";

  static {
    AvroSafety.ensureConfigured();
  }

  private InferenceTopology() {}

  public static Topology build(TopologyConfig config, InferenceEngine engine, RoutingTable routes,
      SchemaRegistry registry, PipelineMetrics metrics) {
    Topics topics = config.topics();
    InferenceTimeEstimates estimates = new InferenceTimeEstimates();
    BatchPolicy policy = new BatchPolicy(config.maxBatchSize(), config.maxWait().toMillis(),
        config.punctuateInterval().toMillis());
    Topology topology = new Topology();
    topology.addSource(SOURCE, Serdes.String().deserializer(),
        new AvroWireDeserializer<InferenceRequest>(registry, InferenceRequest.getClassSchema()),
        topics.requests());
    topology.addProcessor(ROUTE,
        () -> new RouteProcessor(routes, BATCH, PREDICTIONS_SINK, metrics, config.workerId()), SOURCE);
    topology.addProcessor(BATCH,
        () -> new BatchProcessor(BATCH_STORE, INFER, PREDICTIONS_SINK, policy, config.punctuateInterval(),
            config.maxBufferedRequests(), estimates, metrics, config.workerId()),
        ROUTE);
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BATCH_STORE),
            Serdes.String(), AvroSerdes.<BufferedRequest>value(registry, BufferedRequest.getClassSchema()))
        // The cache absorbs a request buffered and dispatched within one commit interval: its put
        // never reaches the changelog, only the tombstone does (half the changelog traffic).
        .withCachingEnabled()
        .withLoggingEnabled(Map.of()), BATCH);
    topology.addProcessor(INFER,
        () -> new InferProcessor(engine, estimates, metrics, config.workerId()), BATCH);
    topology.addSink(PREDICTIONS_SINK, topics.predictions(), Serdes.String().serializer(),
        new AvroWireSerializer<InferenceResponse>(registry, InferenceResponse.getClassSchema(), false),
        ROUTE, BATCH, INFER);
    return topology;
  }
}

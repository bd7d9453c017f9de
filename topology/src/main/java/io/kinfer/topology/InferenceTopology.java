package io.kinfer.topology;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.schemas.serde.AvroSerdes;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.batch.AdaptiveBatching;
import io.kinfer.topology.batch.BatchPolicy;
import io.kinfer.topology.batch.BatchProcessor;
import io.kinfer.topology.batch.BatchesInFlight;
import io.kinfer.topology.batch.InferenceTimeEstimates;
import io.kinfer.topology.control.ControlPlane;
import io.kinfer.topology.control.ControlProcessor;
import io.kinfer.topology.control.ControlRecordDecoder;
import io.kinfer.topology.errors.DeadLetters;
import io.kinfer.topology.infer.EngineHealth;
import io.kinfer.topology.infer.FailureIsolation;
import io.kinfer.topology.infer.InferProcessor;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.topology.route.ReceivedRequest;
import io.kinfer.topology.route.RouteProcessor;
import io.kinfer.topology.shadow.ShadowProcessor;
import java.util.Map;
import java.util.concurrent.Executor;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Builds the worker's topology as a pure function: requests → route → batch → infer → predictions,
 * with infer → shadow → shadow/comparisons for sampled shadow traffic, and the control topic read
 * by every worker as a global store that swaps routing plans. Undecodable requests never reach it:
 * the {@code errors.DeadLetterHandler} puts them on the dead-letter topic. Every node and store is
 * named; a golden-file test pins the names (renaming the buffer store would orphan its changelog and
 * lose buffered requests on upgrade).
 */
public final class InferenceTopology {
  public static final String SOURCE = "requests-source";
  public static final String ROUTE = "route";
  public static final String BATCH = "batch";
  public static final String BATCH_STORE = "batch-buffer";
  public static final String INFER = "infer";
  public static final String SHADOW = "shadow";
  public static final String PREDICTIONS_SINK = "predictions-sink";
  public static final String SHADOW_SINK = "shadow-sink";
  public static final String COMPARISONS_SINK = "comparisons-sink";
  public static final String DEAD_LETTERS_SINK = "dead-letters-sink";
  public static final String CONTROL_SOURCE = "control-source";
  public static final String CONTROL = "control";
  public static final String CONTROL_STORE = "control-plans";

  static {
    AvroSafety.ensureConfigured();
  }

  /** Additive increase of the adaptive batch cap, per full batch that met the latency target. */
  static final int ADAPTIVE_STEP = 4;

  private InferenceTopology() {}

  public static Topology build(TopologyConfig config, InferenceEngine engine, PlanRoutingTable routes,
      ControlPlane control, SchemaRegistry registry, PipelineMetrics metrics) {
    return build(config, engine, routes, control, registry, metrics, new EngineHealth());
  }

  public static Topology build(TopologyConfig config, InferenceEngine engine, PlanRoutingTable routes,
      ControlPlane control, SchemaRegistry registry, PipelineMetrics metrics, EngineHealth health) {
    return build(config, engine, routes, control, registry, metrics, health, Runnable::run);
  }

  /**
   * @param engineThreads where batches run: the worker's engine threads, so the stream thread
   *     keeps reading and committing meanwhile; {@code Runnable::run} runs them on the stream thread
   */
  public static Topology build(TopologyConfig config, InferenceEngine engine, PlanRoutingTable routes,
      ControlPlane control, SchemaRegistry registry, PipelineMetrics metrics, EngineHealth health,
      Executor engineThreads) {
    Topics topics = config.topics();
    String worker = config.workerId();
    InferenceTimeEstimates estimates = new InferenceTimeEstimates();
    AdaptiveBatching adaptive = new AdaptiveBatching(config.latencyTargetMs(), ADAPTIVE_STEP);
    BatchPolicy defaults = new BatchPolicy(config.maxBatchSize(), config.maxWait().toMillis(),
        config.punctuateInterval().toMillis(), config.maxBatchElements());
    BatchesInFlight inFlight = new BatchesInFlight();
    Topology topology = new Topology();
    // Keys and values as read are kept for dead-letter copies (the route step makes the key a String).
    topology.addSource(SOURCE, Serdes.ByteArray().deserializer(),
        ReceivedRequest.deserializer(topics.requestsTopic().valueDeserializer(registry)), topics.requests());
    topology.addProcessor(ROUTE, () -> new RouteProcessor(routes, BATCH, PREDICTIONS_SINK, DEAD_LETTERS_SINK,
        topics.requests(), metrics, worker), SOURCE);
    topology.addProcessor(BATCH,
        () -> new BatchProcessor(BATCH_STORE, INFER, PREDICTIONS_SINK, model -> routes.policy(model, defaults),
            engine::maxBatchSize, config.punctuateInterval(), config.maxBufferedRequests(), estimates, adaptive,
            metrics, worker, inFlight),
        ROUTE);
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BATCH_STORE),
            Serdes.String(), AvroSerdes.<BufferedRequest>value(registry, BufferedRequest.getClassSchema()))
        // The cache absorbs a request buffered and dispatched within one commit interval: its put
        // never reaches the changelog, only the tombstone does (half the changelog traffic).
        .withCachingEnabled()
        .withLoggingEnabled(Map.of()), BATCH);
    FailureIsolation isolation = new FailureIsolation(engine, config.engineRetryBackoffMs(), FailureIsolation.threadSleep());
    topology.addProcessor(INFER, () -> new InferProcessor(estimates, adaptive, metrics, worker, PREDICTIONS_SINK, SHADOW,
        DEAD_LETTERS_SINK, topics.requests(), isolation, health, BATCH_STORE, inFlight, engineThreads,
        config.punctuateInterval()), BATCH);
    topology.connectProcessorAndStateStores(INFER, BATCH_STORE); // deletes what it answered
    topology.addProcessor(SHADOW, () -> new ShadowProcessor(engine, SHADOW_SINK, COMPARISONS_SINK, metrics, worker),
        INFER);
    topology.addSink(PREDICTIONS_SINK, topics.predictions(), Serdes.String().serializer(),
        topics.predictionsTopic().valueSerializer(registry), ROUTE, BATCH, INFER);
    // Dead-letter copies of decodable but unservable requests: the bytes as read pass through; a
    // request buffered by an older worker (without them) is re-encoded under the request topic's
    // subject, so it still reads back like what the producer sent.
    AvroWireSerializer<InferenceRequest> requestWire = topics.requestsTopic().valueSerializer(registry);
    Serializer<InferenceRequest> asRequest = (topic, request) -> requestWire.serialize(topics.requests(), request);
    topology.addSink(DEAD_LETTERS_SINK, topics.deadLetters(), DeadLetters.passThrough(Serdes.String().serializer(),
        String.class), DeadLetters.passThrough(asRequest, InferenceRequest.class), ROUTE, INFER);
    topology.addSink(SHADOW_SINK, topics.shadow(), Serdes.String().serializer(),
        topics.shadowTopic().valueSerializer(registry), SHADOW);
    topology.addSink(COMPARISONS_SINK, topics.comparisons(), Serdes.String().serializer(),
        topics.comparisonsTopic().valueSerializer(registry), SHADOW);
    topology.addGlobalStore(
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(CONTROL_STORE), Serdes.String(), Serdes.ByteArray())
            .withLoggingDisabled(),
        CONTROL_SOURCE, Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), topics.control(), CONTROL,
        () -> new ControlProcessor(CONTROL_STORE, new ControlRecordDecoder(registry), control.verifier(),
            control.preparer(), routes, control.events()));
    return topology;
  }
}

package io.kinfer.topology.route;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.errors.DeadLetters;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Assigns each decoded request a model version (via the {@link RoutingTable}) and hands it to the
 * batcher, with the record as read (key and value bytes, headers) for a dead-letter copy later; a
 * request no version can serve is answered ERROR here, without batching, and its record goes to
 * the dead-letter topic as it was read. Keys arrive as bytes (kept exactly) and go on as UTF-8
 * strings, as a String deserializer would have made them.
 */
public final class RouteProcessor implements Processor<byte[], ReceivedRequest, Object, Object> {
  private final RoutingTable routes;
  private final String batchChild;
  private final String errorChild;
  private final String deadLetterChild;
  private final String requestsTopic;
  private final PipelineMetrics metrics;
  private final String workerId;
  private ProcessorContext<Object, Object> context;

  public RouteProcessor(RoutingTable routes, String batchChild, String errorChild, String deadLetterChild,
      String requestsTopic, PipelineMetrics metrics, String workerId) {
    this.routes = routes;
    this.batchChild = batchChild;
    this.errorChild = errorChild;
    this.deadLetterChild = deadLetterChild;
    this.requestsTopic = requestsTopic;
    this.metrics = metrics;
    this.workerId = workerId;
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<byte[], ReceivedRequest> record) {
    ReceivedRequest received = record.value();
    if (received == null) {
      return; // a tombstone on the request topic is not a request
    }
    InferenceRequest request = received.request();
    String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    metrics.request(request.getModel());
    int partition = context.recordMetadata().map(m -> m.partition()).orElse(-1);
    long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
    Optional<Assignment> assignment = routes.assign(key, request);
    if (assignment.isEmpty()) {
      String what = request.getVersion() == null
          ? "Unknown model '" + request.getModel() + "'"
          : "Version '" + request.getVersion() + "' of model '" + request.getModel() + "' is not loaded";
      InferenceResponse response = Responses.unbatched(request, record.timestamp(), Status.ERROR,
          what + "; this worker serves " + routes.describe(), workerId);
      metrics.response(response);
      context.forward(new Record<Object, Object>(key, response, context.currentSystemTimeMs(),
          ResponseHeaders.of(response)), errorChild);
      context.forward(new Record<Object, Object>(record.key(), received.value(), record.timestamp(),
          DeadLetters.headers(record.headers(), "UnknownModel", response.getError(), DeadLetters.STAGE_ROUTE,
              requestsTopic, partition, offset)), deadLetterChild);
      metrics.deadLetter(DeadLetters.STAGE_ROUTE);
      return;
    }
    Assignment a = assignment.get();
    BufferedRequest buffered = BufferedRequest.newBuilder()
        .setKey(key).setRequest(request)
        .setVersion(a.version().version()).setVariant(a.variant()).setPlanGeneration(a.planGeneration())
        .setShadows(a.shadows())
        .setRecordTimestamp(record.timestamp()).setEnqueuedAtMs(context.currentSystemTimeMs())
        .setSourcePartition(partition).setSourceOffset(offset)
        .setReceived(received.value().length <= DeadLetters.MAX_KEPT_BYTES
            ? DeadLetters.received(record.key(), received.value(), record.headers()) : null)
        .build();
    context.forward(new Record<Object, Object>(key, buffered, record.timestamp(), record.headers()), batchChild);
  }
}

package io.kinfer.topology.route;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.errors.DeadLetters;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Assigns each decoded request a model version (via the {@link RoutingTable}) and hands it to the
 * batcher; a request no version can serve is answered ERROR here, without batching, and a copy goes
 * to the dead-letter topic.
 */
public final class RouteProcessor implements Processor<String, InferenceRequest, String, Object> {
  private final RoutingTable routes;
  private final String batchChild;
  private final String errorChild;
  private final String deadLetterChild;
  private final String requestsTopic;
  private final PipelineMetrics metrics;
  private final String workerId;
  private ProcessorContext<String, Object> context;

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
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, InferenceRequest> record) {
    InferenceRequest request = record.value();
    if (request == null) {
      return; // a tombstone on the request topic is not a request
    }
    metrics.request(request.getModel());
    int partition = context.recordMetadata().map(m -> m.partition()).orElse(-1);
    long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
    Optional<Assignment> assignment = routes.assign(record.key(), request);
    if (assignment.isEmpty()) {
      String what = request.getVersion() == null
          ? "Unknown model '" + request.getModel() + "'"
          : "Version '" + request.getVersion() + "' of model '" + request.getModel() + "' is not loaded";
      InferenceResponse response = Responses.unbatched(request, record.timestamp(), Status.ERROR,
          what + "; this worker serves " + routes.describe(), workerId);
      metrics.response(response);
      context.forward(new Record<String, Object>(record.key(), response, context.currentSystemTimeMs(),
          ResponseHeaders.of(response)), errorChild);
      context.forward(new Record<String, Object>(record.key(), request, record.timestamp(), DeadLetters.headers(
          "UnknownModel", response.getError(), DeadLetters.STAGE_ROUTE, requestsTopic, partition, offset)),
          deadLetterChild);
      metrics.deadLetter(DeadLetters.STAGE_ROUTE);
      return;
    }
    Assignment a = assignment.get();
    BufferedRequest buffered = BufferedRequest.newBuilder()
        .setKey(record.key()).setRequest(request)
        .setVersion(a.version().version()).setVariant(a.variant()).setPlanGeneration(a.planGeneration())
        .setShadows(a.shadows())
        .setRecordTimestamp(record.timestamp()).setEnqueuedAtMs(context.currentSystemTimeMs())
        .setSourcePartition(partition).setSourceOffset(offset)
        .build();
    context.forward(record.withValue((Object) buffered), batchChild);
  }
}

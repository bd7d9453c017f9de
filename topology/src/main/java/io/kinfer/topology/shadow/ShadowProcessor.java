package io.kinfer.topology.shadow;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.Status;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.PipelineMetrics;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.topology.infer.ShadowWork;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Runs the shadow versions on the requests of a primary batch that were sampled for them, after the
 * primary responses have been forwarded. Shadow answers go only to the shadow topic, a comparison
 * per request to the comparisons topic. A failing shadow yields comparisons carrying the error; it
 * never touches the primary responses. Cost to the primary: one shadow batch inference per primary
 * batch, in the same commit (documented in docs/ARCHITECTURE.md).
 */
public final class ShadowProcessor implements Processor<String, ShadowWork, String, Object> {
  public static final String SHADOW_VARIANT = "SHADOW";

  private final InferenceEngine engine;
  private final String shadowChild;
  private final String comparisonChild;
  private final PipelineMetrics metrics;
  private final String workerId;
  private ProcessorContext<String, Object> context;

  public ShadowProcessor(InferenceEngine engine, String shadowChild, String comparisonChild,
      PipelineMetrics metrics, String workerId) {
    this.engine = engine;
    this.shadowChild = shadowChild;
    this.comparisonChild = comparisonChild;
    this.metrics = metrics;
    this.workerId = workerId;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
  }

  @Override
  public void process(Record<String, ShadowWork> record) {
    ShadowWork work = record.value();
    Set<String> versions = new LinkedHashSet<>();
    work.requests().forEach(r -> versions.addAll(r.getShadows()));
    for (String version : versions) {
      List<Integer> picked = new ArrayList<>();
      for (int i = 0; i < work.requests().size(); i++) {
        if (work.requests().get(i).getShadows().contains(version)) {
          picked.add(i);
        }
      }
      run(work, new ModelVersion(work.primary().model(), version), picked);
    }
  }

  private void run(ShadowWork work, ModelVersion shadow, List<Integer> picked) {
    List<InferenceRequest> requests = new ArrayList<>(picked.size());
    picked.forEach(i -> requests.add(work.requests().get(i).getRequest()));
    BatchResult result;
    String failure = null;
    try {
      result = engine.infer(shadow, requests);
    } catch (RuntimeException e) {
      result = null;
      failure = "Shadow " + shadow + " failed: " + e.getMessage();
    }
    long shadowMicros = result == null ? 0 : TimeUnit.NANOSECONDS.toMicros(result.engineNanos());
    long now = context.currentSystemTimeMs();
    for (int j = 0; j < picked.size(); j++) {
      BufferedRequest request = work.requests().get(picked.get(j));
      Outcome primary = work.primaryOutcomes().get(picked.get(j));
      Outcome outcome = result == null ? Outcome.failed(failure) : result.outcomes().get(j);
      BufferedRequest asShadow = BufferedRequest.newBuilder(request).setVersion(shadow.version())
          .setVariant(SHADOW_VARIANT).build();
      InferenceResponse response = Responses.batched(asShadow, outcome.isOk() ? Status.OK : Status.ERROR,
          outcome.error(), outcome.outputs(), 0, shadowMicros, picked.size(), workerId);
      context.forward(new Record<String, Object>(request.getKey(), response, now, ResponseHeaders.of(response)),
          shadowChild);
      ShadowComparison comparison = compare(request, work, shadow, primary, outcome, shadowMicros);
      metrics.shadowComparison(shadow, comparison);
      context.forward(new Record<String, Object>(request.getKey(), comparison, now), comparisonChild);
    }
  }

  private static ShadowComparison compare(BufferedRequest request, ShadowWork work, ModelVersion shadow,
      Outcome primary, Outcome outcome, long shadowMicros) {
    ShadowComparison.Builder out = ShadowComparison.newBuilder()
        .setId(request.getRequest().getId()).setModel(shadow.model())
        .setPrimaryVersion(work.primary().version()).setShadowVersion(shadow.version())
        .setPrimaryInferenceMicros(work.primaryMicros()).setShadowInferenceMicros(shadowMicros);
    if (!outcome.isOk()) {
      return out.setMaxAbsDiff(Double.NaN).setTop1Agree(null).setShadowError(outcome.error()).build();
    }
    ShadowComparator.Comparison c = ShadowComparator.compare(primary.outputs(), outcome.outputs());
    return out.setMaxAbsDiff(c.maxAbsDiff()).setTop1Agree(c.top1Agree()).setCosine(c.cosine()).build();
  }
}

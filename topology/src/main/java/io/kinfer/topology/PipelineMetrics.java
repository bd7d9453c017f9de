package io.kinfer.topology;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingTimeWindowArrayReservoir;
import com.codahale.metrics.Timer;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pipeline's measurements in a Dropwizard registry. Names are dotted with model and version
 * (and for responses the variant) as the last parts ({@code kinfer.responses.OK.mlp.1.PRIMARY});
 * the Prometheus exporter turns those into labels.
 */
public final class PipelineMetrics {
  public static final String PREFIX = "kinfer";
  private final MetricRegistry registry;
  private final AtomicLong buffered = new AtomicLong();
  private final Map<String, AtomicLong> bufferedByModel = new ConcurrentHashMap<>();
  private final Map<ModelVersion, long[]> limits = new ConcurrentHashMap<>();

  /**
   * A name part (model, version, variant) as it goes into a dotted metric name: '.' would split it
   * into two parts and lose its labels, so '.' and '%' are escaped; the exporter decodes them.
   */
  public static String part(String value) {
    return value.indexOf('.') < 0 && value.indexOf('%') < 0 ? value : value.replace("%", "%25").replace(".", "%2E");
  }

  /** The inverse of {@link #part}, for label values. */
  public static String unpart(String value) {
    return value.indexOf('%') < 0 ? value : value.replace("%2E", ".").replace("%25", "%");
  }

  public PipelineMetrics(MetricRegistry registry) {
    this.registry = registry;
    registry.gauge(MetricRegistry.name(PREFIX, "buffered"), () -> buffered::get);
  }

  // Per-request metrics are looked up by small keys, not by building dotted names for every request.
  private record ResponseKey(Status status, String model, String version, String variant) {}

  private final Map<String, Counter> requests = new ConcurrentHashMap<>();
  private final Map<ResponseKey, Counter> responses = new ConcurrentHashMap<>();
  private final Map<String, Histogram> e2eLatency = new ConcurrentHashMap<>();
  private final Map<ModelVersion, Histogram> queueWaits = new ConcurrentHashMap<>();

  public void request(String model) {
    requests.computeIfAbsent(model, m -> registry.counter(MetricRegistry.name(PREFIX, "requests", part(m)))).inc();
  }

  public void response(InferenceResponse response) {
    ResponseKey key = new ResponseKey(response.getStatus(), response.getModel(), String.valueOf(response.getVersion()),
        response.getVariant() == null ? "NONE" : response.getVariant());
    responses.computeIfAbsent(key, k -> registry.counter(MetricRegistry.name(PREFIX, "responses", k.status().name(),
        part(k.model()), part(k.version()), part(k.variant())))).inc();
    long e2eMs = System.currentTimeMillis() - response.getTimings().getRequestTimestamp().toEpochMilli();
    e2eLatency.computeIfAbsent(response.getModel(),
        m -> histogram(MetricRegistry.name(PREFIX, "latency.e2e.ms", part(m)))).update(e2eMs);
  }

  public void batch(ModelVersion version, int size, long engineNanos) {
    histogram(MetricRegistry.name(PREFIX, "batch.size", part(version.model()), part(version.version()))).update(size);
    timer(MetricRegistry.name(PREFIX, "inference", part(version.model()), part(version.version())))
        .update(engineNanos, TimeUnit.NANOSECONDS);
  }

  public void queueWait(ModelVersion version, long micros) {
    queueWaits.computeIfAbsent(version,
        v -> histogram(MetricRegistry.name(PREFIX, "queue.wait.us", part(v.model()), part(v.version())))).update(micros);
  }

  public void shadowComparison(ModelVersion shadow, io.kinfer.schemas.ShadowComparison comparison) {
    String base = MetricRegistry.name(PREFIX, "shadow", part(shadow.model()), part(shadow.version()));
    registry.counter(base + ".compared").inc();
    if (comparison.getShadowError() != null) {
      registry.counter(base + ".errors").inc();
      return;
    }
    if (Boolean.TRUE.equals(comparison.getTop1Agree())) {
      registry.counter(base + ".top1.agree").inc();
    }
    if (comparison.getCosine() != null) {
      // Cosine distance in parts per million: the histogram holds longs, and 1e-6 resolves INT8-vs-FP32 drift.
      histogram(base + ".cosine.distance.ppm").update(Math.round((1 - comparison.getCosine()) * 1e6));
    }
  }

  /** Current adaptive batch bounds of a version (gauges, set as the batcher dispatches with them). */
  public void batchLimits(ModelVersion version, int maxBatchSize, long maxWaitMs) {
    long[] holder = limits.computeIfAbsent(version, v -> {
      long[] values = new long[2];
      registry.gauge(MetricRegistry.name(PREFIX, "batch.limit.size", part(v.model()), part(v.version())),
          () -> () -> values[0]);
      registry.gauge(MetricRegistry.name(PREFIX, "batch.limit.wait.ms", part(v.model()), part(v.version())),
          () -> () -> values[1]);
      return values;
    });
    holder[0] = maxBatchSize;
    holder[1] = maxWaitMs;
  }

  public void deadLetter(String stage) {
    registry.counter(MetricRegistry.name(PREFIX, "dead.letters", stage)).inc();
  }

  /**
   * Requests of {@code model} that one task buffered ({@code delta} > 0) or dispatched or gave up
   * (< 0): every task of the worker adds to the same totals, per model and overall.
   */
  public void buffered(String model, long delta) {
    bufferedByModel.computeIfAbsent(model, m -> {
      AtomicLong count = new AtomicLong();
      registry.gauge(MetricRegistry.name(PREFIX, "buffered.model", part(m)), () -> count::get);
      return count;
    }).addAndGet(delta);
    buffered.addAndGet(delta);
  }

  private Histogram histogram(String name) {
    return registry.histogram(name, () -> new Histogram(new SlidingTimeWindowArrayReservoir(60, TimeUnit.SECONDS)));
  }

  private Timer timer(String name) {
    return registry.timer(name, () -> new Timer(new SlidingTimeWindowArrayReservoir(60, TimeUnit.SECONDS)));
  }
}

package io.kinfer.evaluation;

import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Live shadow comparisons (the comparisons topic) summed per model / primary / shadow version into
 * {@link PairStats}: what {@code ops compare} reports and {@code ops ctl canary --auto} gates on.
 */
public final class ComparisonTally {
  private final AvroWireDeserializer<ShadowComparison> decoder;
  private final String topic;
  private final String model;
  private final String shadowVersion;
  private final double tolerance;
  private final Map<String, PairStats> pairs = new LinkedHashMap<>();
  private final long startedMs = System.currentTimeMillis();
  private long records;
  private long undecodable;
  private long filteredOut;

  /**
   * @param model only this model (null = all)
   * @param shadowVersion only this shadow version (null = all)
   */
  public ComparisonTally(SchemaRegistry registry, String topic, String model, String shadowVersion, double tolerance) {
    this.decoder = new AvroWireDeserializer<>(registry, ShadowComparison.getClassSchema());
    this.topic = topic;
    this.model = model;
    this.shadowVersion = shadowVersion;
    this.tolerance = tolerance;
  }

  public void accept(List<ConsumerRecord<byte[], byte[]>> chunk) {
    for (ConsumerRecord<byte[], byte[]> r : chunk) {
      records++;
      ShadowComparison c;
      try {
        c = decoder.deserialize(topic, r.value());
      } catch (RuntimeException e) {
        undecodable++;
        continue;
      }
      if ((model != null && !model.equals(c.getModel().toString()))
          || (shadowVersion != null && !shadowVersion.equals(c.getShadowVersion().toString()))) {
        filteredOut++;
        continue;
      }
      String baseline = c.getModel() + ":" + c.getPrimaryVersion();
      String candidate = c.getModel() + ":" + c.getShadowVersion();
      PairStats pair = pairs.computeIfAbsent(candidate + " vs " + baseline,
          k -> new PairStats(baseline, candidate, tolerance));
      if (c.getShadowError() != null) {
        pair.candidateFailed();
      } else {
        pair.record(r.timestamp(), c.getMaxAbsDiff(), c.getTop1Agree(), c.getCosine());
      }
    }
  }

  /** Comparisons counted so far for the one pair of a canary (or all pairs). */
  public long compared() {
    return pairs.values().stream().mapToLong(PairStats::compared).sum();
  }

  /** One summary per (model, primary, shadow version) seen, in first-seen order. */
  public List<PairSummary> summaries() {
    return pairs.values().stream().map(PairStats::summary).toList();
  }

  /** Records read, undecodable, and left out by the model / version filter. */
  public Map<String, Long> counts() {
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("records", records);
    counts.put("undecodable", undecodable);
    counts.put("otherModelsOrVersions", filteredOut);
    return counts;
  }

  public double durationSeconds() {
    return (System.currentTimeMillis() - startedMs) / 1000.0;
  }
}

package io.kinfer.worker.http;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.topology.PipelineMetrics;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's Dropwizard registry as labelled Prometheus series. The Dropwizard bridge turns
 * each Dropwizard metric into a family of its own, so two versions of one model (a canary, an A/B
 * test, a pinned request) gave two families named {@code kinfer_batch_size} and the whole scrape
 * failed with "duplicate metric name". Here each metric is converted alone and the families of one
 * name are merged into one with all their series; label values get back the '.' that {@link
 * PipelineMetrics#part} escaped.
 */
final class PipelineExports implements MultiCollector {
  private final MetricRegistry registry;
  private final CustomLabelMapper mapper = MetricNames.labelMapper();

  PipelineExports(MetricRegistry registry) {
    this.registry = registry;
  }

  @Override
  public MetricSnapshots collect() {
    Map<String, List<MetricSnapshot>> byName = new LinkedHashMap<>();
    for (String name : registry.getNames()) {
      for (MetricSnapshot snapshot : new DropwizardExports(registry, (n, m) -> n.equals(name), mapper).collect()) {
        byName.computeIfAbsent(snapshot.getMetadata().getPrometheusName(), k -> new ArrayList<>()).add(snapshot);
      }
    }
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    byName.values().forEach(family -> out.metricSnapshot(merge(family)));
    return out.build();
  }

  /** One family from snapshots of one name and kind, label values decoded. */
  private static MetricSnapshot merge(List<MetricSnapshot> family) {
    MetricSnapshot first = family.get(0);
    if (first instanceof CounterSnapshot) {
      List<CounterDataPointSnapshot> points = new ArrayList<>();
      family.forEach(s -> ((CounterSnapshot) s).getDataPoints().forEach(p -> points.add(new CounterDataPointSnapshot(
          p.getValue(), decode(p.getLabels()), p.getExemplar(), p.getCreatedTimestampMillis()))));
      return new CounterSnapshot(first.getMetadata(), points);
    }
    if (first instanceof GaugeSnapshot) {
      List<GaugeDataPointSnapshot> points = new ArrayList<>();
      family.forEach(s -> ((GaugeSnapshot) s).getDataPoints().forEach(p -> points.add(new GaugeDataPointSnapshot(
          p.getValue(), decode(p.getLabels()), p.getExemplar()))));
      return new GaugeSnapshot(first.getMetadata(), points);
    }
    if (first instanceof SummarySnapshot) {
      List<SummaryDataPointSnapshot> points = new ArrayList<>();
      family.forEach(s -> ((SummarySnapshot) s).getDataPoints().forEach(p -> points.add(new SummaryDataPointSnapshot(
          p.getCount(), p.getSum(), p.getQuantiles(), decode(p.getLabels()), p.getExemplars(),
          p.getCreatedTimestampMillis()))));
      return new SummarySnapshot(first.getMetadata(), points);
    }
    if (family.size() > 1) {
      throw new IllegalStateException("Cannot merge " + family.size() + " " + first.getClass().getSimpleName()
          + " families named " + first.getMetadata().getPrometheusName());
    }
    return first;
  }

  private static Labels decode(Labels labels) {
    String[] names = new String[labels.size()];
    String[] values = new String[labels.size()];
    for (int i = 0; i < labels.size(); i++) {
      names[i] = labels.getName(i);
      values[i] = PipelineMetrics.unpart(labels.getValue(i));
    }
    return Labels.of(names, values);
  }
}

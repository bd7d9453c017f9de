package io.kinfer.worker.http;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Kafka Streams' own client metrics (consumer lag, commit latency, process rate, ...) as Prometheus
 * gauges {@code kafka_<group>_<name>} with the Kafka tags as labels, read at scrape time.
 */
public final class KafkaClientMetrics implements MultiCollector {
  private final Supplier<Map<MetricName, ? extends Metric>> metrics;

  public KafkaClientMetrics(Supplier<Map<MetricName, ? extends Metric>> metrics) {
    this.metrics = metrics;
  }

  @Override
  public MetricSnapshots collect() {
    Map<String, GaugeSnapshot.Builder> gauges = new TreeMap<>();
    Map<String, java.util.Set<Labels>> seen = new TreeMap<>();
    Map<MetricName, ? extends Metric> all = metrics.get();
    java.util.Set<String> topics = new java.util.HashSet<>();
    all.keySet().forEach(n -> {
      if (n.tags().containsKey("topic")) {
        topics.add(n.tags().get("topic"));
      }
    });
    all.forEach((name, metric) -> {
      if (!(metric.metricValue() instanceof Number value) || Double.isNaN(value.doubleValue())) {
        return;
      }
      String topic = name.tags().get("topic");
      if (topic != null && topic.contains("_") && topics.contains(topic.replace('_', '.'))) {
        return; // Kafka also reports a legacy copy with '.' in the topic name replaced by '_'
      }
      String prom = PrometheusNaming.sanitizeMetricName("kafka_" + name.group() + "_" + name.name());
      Labels labels = Labels.EMPTY;
      for (Map.Entry<String, String> tag : new TreeMap<>(name.tags()).entrySet()) {
        labels = labels.add(PrometheusNaming.sanitizeLabelName(tag.getKey()), tag.getValue());
      }
      if (!seen.computeIfAbsent(prom, k -> new java.util.HashSet<>()).add(labels)) {
        return; // the same series twice (e.g. two clients with equal tags): keep the first
      }
      gauges.computeIfAbsent(prom, n -> GaugeSnapshot.builder().name(n).help(name.description()))
          .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value.doubleValue()).labels(labels).build());
    });
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    gauges.values().forEach(g -> out.metricSnapshot(g.build()));
    return out.build();
  }
}

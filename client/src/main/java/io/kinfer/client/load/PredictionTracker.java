package io.kinfer.client.load;

import io.kinfer.client.security.ClientSettings;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.topology.Topics;
import java.time.Duration;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads predictions with read_committed (only what the worker's transactions committed) and keeps
 * the evidence: which ids were answered, duplicates, statuses, batch sizes, and end-to-end latency
 * (from the request's record timestamp to now) in an HdrHistogram.
 */
public final class PredictionTracker implements AutoCloseable {
  private final KafkaConsumer<String, InferenceResponse> consumer;
  private final RequestFactory factory;
  private final Thread thread;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final BitSet seen = new BitSet();
  private final Recorder latency = new Recorder(3);
  private final Histogram latencyTotal = new Histogram(3);
  // The two halves of latency: until the worker published the answer (record timestamp), and from
  // there until a read_committed consumer could see it (transaction commit + fetch).
  private final Histogram untilPublished = new Histogram(3);
  private final Histogram publishedToVisible = new Histogram(3);
  private final Map<Status, Long> statuses = new EnumMap<>(Status.class);
  private final Consumer<InferenceResponse> listener;
  private final String topic;
  private long answered;
  private long duplicates;
  private long foreign;
  private long batchSizeSum;
  private long batched;
  /** Engine time of the answered requests' batches, each batch counted once (its share per request). */
  private double engineMicros;
  private long firstAtMs;
  private long lastAtMs;
  private volatile Exception failure;
  /** Per partition, when its last answer became visible; empty until {@link #startGapWindow}. */
  private final Map<Integer, Long> lastVisibleMs = new java.util.HashMap<>();
  private Gap longestGap = new Gap(-1, 0);
  /** Per partition, the end-to-end latency of its last answer. */
  private final Map<Integer, Long> lastLatencyMs = new java.util.HashMap<>();
  /** The consumer's position per partition after the last poll (the consumer is only usable on its thread). */
  private volatile Map<org.apache.kafka.common.TopicPartition, Long> positions = Map.of();

  public PredictionTracker(String bootstrapServers, SchemaRegistry registry, String topic,
      RequestFactory factory, Consumer<InferenceResponse> listener) {
    this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), registry, topic, factory, listener);
  }

  /** @param client Kafka client settings: bootstrap and, on a secured cluster, security */
  public PredictionTracker(Map<String, Object> client, SchemaRegistry registry, String topic,
      RequestFactory factory, Consumer<InferenceResponse> listener) {
    Map<String, Object> config = ClientSettings.committedReader(client);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    this.consumer = new KafkaConsumer<>(config,
        new StringDeserializer(), Topics.answersSpec(topic).valueDeserializer(registry));
    this.factory = factory;
    this.listener = listener;
    this.topic = topic;
    this.thread = new Thread(this::loop, "prediction-tracker");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Assigned, not subscribed: without a group no rebalance can move the position back (e.g. after a
   * broker restart), so a record seen twice really is on the topic twice. The topic may not exist
   * yet (workers create it), so assignment waits for it.
   */
  private void assign() throws InterruptedException {
    while (running.get()) {
      List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5))
          .stream().map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
      if (!partitions.isEmpty()) {
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return;
      }
      Thread.sleep(100); // polling for a topic another process creates
    }
  }

  private void loop() {
    try {
      assign();
      while (running.get()) {
        for (ConsumerRecord<String, InferenceResponse> record : consumer.poll(Duration.ofMillis(50))) {
          long now = System.currentTimeMillis();
          long e2e = record(record.value(), record.timestamp(), now);
          arrived(record.partition(), now, e2e);
        }
        Map<org.apache.kafka.common.TopicPartition, Long> now = new java.util.HashMap<>();
        for (org.apache.kafka.common.TopicPartition partition : consumer.assignment()) {
          now.put(partition, consumer.position(partition));
        }
        positions = Map.copyOf(now);
      }
    } catch (Exception e) {
      if (running.get()) {
        failure = e;
      }
    } finally {
      consumer.close();
    }
  }

  /**
   * @param publishedMs the answer's record timestamp: when the worker published it
   * @return the answer's end-to-end latency
   */
  private long record(InferenceResponse response, long publishedMs, long nowMs) {
    long index = factory.index(response.getId());
    long e2e = Math.max(0, nowMs - response.getTimings().getRequestTimestamp().toEpochMilli());
    synchronized (this) {
      untilPublished.recordValue(Math.max(0, publishedMs - response.getTimings().getRequestTimestamp().toEpochMilli()));
      publishedToVisible.recordValue(Math.max(0, nowMs - publishedMs));
      if (index < 0) {
        foreign++;
        return e2e;
      }
      if (seen.get((int) index)) {
        duplicates++;
        return e2e;
      }
      seen.set((int) index);
      answered++;
      statuses.merge(response.getStatus(), 1L, Long::sum);
      if (response.getTimings().getBatchSize() > 0) {
        batchSizeSum += response.getTimings().getBatchSize();
        batched++;
        engineMicros += (double) response.getTimings().getInferenceMicros() / response.getTimings().getBatchSize();
      }
      if (firstAtMs == 0) {
        firstAtMs = nowMs;
      }
      lastAtMs = nowMs;
    }
    latency.recordValue(e2e);
    if (listener != null) {
      listener.accept(response);
    }
    return e2e;
  }

  /** The longest time a partition of the answer topic went without a new visible answer. */
  public record Gap(int partition, long millis) {}

  private synchronized void arrived(int partition, long nowMs, long latencyMs) {
    if (lastVisibleMs.isEmpty()) {
      return; // no gap window started
    }
    lastLatencyMs.put(partition, latencyMs);
    Long last = lastVisibleMs.put(partition, nowMs);
    if (last != null && nowMs - last > longestGap.millis()) {
      longestGap = new Gap(partition, nowMs - last);
    }
  }

  /**
   * Starts measuring answer gaps afresh: from now, each of the topic's {@code partitions} counts as
   * silent until its next answer (so a partition that never answers again shows as one long gap).
   */
  public synchronized void startGapWindow(int partitions) {
    long now = System.currentTimeMillis();
    lastVisibleMs.clear();
    lastLatencyMs.clear();
    for (int p = 0; p < partitions; p++) {
      lastVisibleMs.put(p, now);
    }
    longestGap = new Gap(-1, 0);
  }

  /** The longest gap since {@link #startGapWindow}, counting the silence each partition is in now. */
  public synchronized Gap longestGap() {
    Gap silent = currentSilence();
    return silent.millis() > longestGap.millis() ? silent : longestGap;
  }

  /** The partition silent the longest right now, and for how long. */
  public synchronized Gap currentSilence() {
    long now = System.currentTimeMillis();
    Gap out = new Gap(-1, 0);
    for (Map.Entry<Integer, Long> e : lastVisibleMs.entrySet()) {
      if (now - e.getValue() > out.millis()) {
        out = new Gap(e.getKey(), now - e.getValue());
      }
    }
    return out;
  }

  /**
   * Since {@link #startGapWindow}, every partition has answered within {@code silenceMs}, and its
   * last answer took at most {@code latencyMs} end to end (a backlog left by a fault is drained).
   */
  public synchronized boolean allAnsweringWithin(long silenceMs, long latencyMs) {
    return currentSilence().millis() < silenceMs && lastLatencyMs.size() == lastVisibleMs.size()
        && lastLatencyMs.values().stream().allMatch(l -> l < latencyMs);
  }

  /** Latencies recorded since the previous call (for live progress); also kept in the total. */
  public synchronized Histogram intervalLatency() {
    Histogram interval = latency.getIntervalHistogram();
    latencyTotal.add(interval);
    return interval;
  }

  /** Starts latency and batch-size statistics afresh (after a warm-up); ids seen are kept. */
  public synchronized void resetStatistics() {
    latency.reset();
    latencyTotal.reset();
    untilPublished.reset();
    publishedToVisible.reset();
    batchSizeSum = 0;
    batched = 0;
  }

  /** Since the last reset: {time until the worker published, time from publish to visible}. */
  public synchronized Histogram[] latencyHalves() {
    return new Histogram[] {untilPublished.copy(), publishedToVisible.copy()};
  }

  public synchronized Histogram totalLatency() {
    latencyTotal.add(latency.getIntervalHistogram());
    return latencyTotal.copy();
  }

  /**
   * Where reading has got to on each partition of the topic: every answer before these offsets has
   * been counted (empty until the topic exists).
   */
  public Map<org.apache.kafka.common.TopicPartition, Long> positions() {
    return positions;
  }

  public synchronized long answered() {
    return answered;
  }

  public synchronized long duplicates() {
    return duplicates;
  }

  public synchronized long foreign() {
    return foreign;
  }

  /** Ids in [0, count) never answered. */
  public synchronized long missing(long count) {
    return count - seen.get(0, (int) count).cardinality();
  }

  public synchronized Map<Status, Long> statuses() {
    return new EnumMap<>(statuses);
  }

  /** Seconds the engine spent on the batches of the answers seen so far. */
  public synchronized double engineSeconds() {
    return engineMicros / 1e6;
  }

  public synchronized double meanBatchSize() {
    return batched == 0 ? 0 : (double) batchSizeSum / batched;
  }

  public synchronized long firstAtMs() {
    return firstAtMs;
  }

  public synchronized long lastAtMs() {
    return lastAtMs;
  }

  public Exception failure() {
    return failure;
  }

  @Override
  public void close() {
    running.set(false);
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

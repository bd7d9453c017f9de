package io.kinfer.worker.config;

import com.codahale.metrics.SharedMetricRegistries;
import io.kinfer.topology.errors.DeadLetterHandler;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/** Turns the worker's typed config into Kafka Streams client properties (a pure function). */
public final class StreamsProperties {
  /** Default session timeout of the main consumer under the classic protocol. */
  public static final int CLASSIC_SESSION_TIMEOUT_MS = 6_000;
  public static final int CLASSIC_HEARTBEAT_INTERVAL_MS = 1_500;
  /** Default transaction timeout of the Streams producer under exactly-once (Streams' own: 10 s). */
  public static final int TRANSACTION_TIMEOUT_MS = 5_000;

  private StreamsProperties() {}

  public static Properties of(WorkerConfig config, String metricsRegistryName) {
    SharedMetricRegistries.getOrCreate(metricsRegistryName);
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.getString(WorkerConfig.APPLICATION_ID_CONFIG));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.getString(WorkerConfig.PROCESSING_GUARANTEE_CONFIG));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.getInt(WorkerConfig.NUM_STREAM_THREADS_CONFIG));
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.getLong(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG));
    p.put(StreamsConfig.STATE_DIR_CONFIG, config.getString(WorkerConfig.STATE_DIR_CONFIG));
    p.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
    p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, config.getString(WorkerConfig.DLQ_TOPIC_CONFIG));
    p.put(DeadLetterHandler.METRICS_REGISTRY_CONFIG, metricsRegistryName);
    // The batcher's time bound is checked by a wall-clock punctuator, which only runs between
    // polls: an idle poll must not block longer than a fraction of max wait.
    long pollMs = Math.max(1, Math.min(20, config.maxWaitMs() / 2));
    p.put(StreamsConfig.POLL_MS_CONFIG, pollMs);
    // Requests are small; let the producer fill batches for throughput without adding much delay.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    // Uncompressed: every Kafka client reads it without plugins (kafkajs and kafka-python decode
    // only gzip natively), and on tensor answers no codec pays (ops bench --codecs: MiniLM answers
    // 100% of their size with lz4, 93% with gzip at ~20x the producer CPU). Small answers compress
    // ~4x: kafka.producer.compression.type sets a codec where every consumer reads it.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "none");
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2000);
    // Plans are written in transactions (with their history record): the control topic's global
    // consumer must not see a plan whose transaction aborted, under at_least_once too.
    p.put(StreamsConfig.globalConsumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
    if (!StreamsConfig.AT_LEAST_ONCE.equals(config.getString(WorkerConfig.PROCESSING_GUARANTEE_CONFIG))) {
      // A stalled (SIGSTOPped, frozen) worker's open transaction holds back the last stable offset
      // of every partition it wrote to, and its pending offset commit blocks the task's next owner,
      // until the broker aborts it: transaction.timeout.ms after it began, at the broker's next
      // timed-out-transaction check. ops bench --scale, one of 3 workers stopped: 15-17 s without an
      // answer at Streams' 10 s, 5.7-12.2 s at 5 s (16.4 s once at 10x the load: the broker checks
      // every 10 s by default). The cost: one engine call (plus what the thread did since its last
      // commit) must stay well under it, or the broker aborts a healthy transaction and the task
      // moves (docs/CONFIGURATION.md).
      // Streams refuses a transaction timeout below the commit interval: a long interval keeps room.
      p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
          (int) Math.max(TRANSACTION_TIMEOUT_MS, 2 * config.getLong(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG)));
    }
    Map<String, Object> passthrough = config.kafkaPassthrough();
    if (!"streams".equals(passthrough.get(StreamsConfig.GROUP_PROTOCOL_CONFIG))) {
      // Classic protocol: a killed or stalled member keeps its partitions until the session timeout
      // (45 s by default) ends; 6 s is the broker's default minimum, and the heartbeat at a quarter of
      // it lets one be lost. Measured by ops bench --scale (docs/BENCHMARKS.md); the trade-off (a GC
      // pause or network blip over 6 s now costs a rebalance) is in docs/CONFIGURATION.md. Under the
      // streams protocol the broker's group settings decide instead.
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, CLASSIC_SESSION_TIMEOUT_MS);
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, CLASSIC_HEARTBEAT_INTERVAL_MS);
    }
    p.putAll(passthrough);
    return p;
  }
}

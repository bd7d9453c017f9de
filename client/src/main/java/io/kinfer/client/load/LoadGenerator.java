package io.kinfer.client.load;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.topology.Topics;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces requests open-loop: request i is due at start + i/rate and carries that intended time as
 * its record timestamp, so measured latency includes any time the generator fell behind (no
 * coordinated omission). Rate 0 = as fast as the producer goes.
 */
public final class LoadGenerator implements AutoCloseable {
  private final KafkaProducer<String, InferenceRequest> producer;
  private final String topic;
  private final RequestFactory factory;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private volatile boolean stopped;

  public LoadGenerator(String bootstrapServers, SchemaRegistry registry, String topic, RequestFactory factory) {
    this(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), registry, topic, factory);
  }

  /** @param client Kafka client settings: bootstrap and, on a secured cluster, security */
  public LoadGenerator(Map<String, Object> client, SchemaRegistry registry, String topic, RequestFactory factory) {
    Map<String, Object> config = new java.util.HashMap<>(client);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    this.producer = new KafkaProducer<>(config,
        new StringSerializer(), Topics.requestsSpec(topic).valueSerializer(registry));
    this.topic = topic;
    this.factory = factory;
  }

  /**
   * Sends requests [from, from+count) at {@code ratePerSecond}, or fewer when {@link #stop} is
   * called; returns how many it sent, once all of them are acknowledged.
   */
  public long run(long from, long count, double ratePerSecond) {
    long startNanos = System.nanoTime();
    long startMs = System.currentTimeMillis();
    long i = 0;
    for (; i < count && !stopped; i++) {
      long timestamp = System.currentTimeMillis();
      if (ratePerSecond > 0) {
        long dueNanos = startNanos + (long) (i * 1e9 / ratePerSecond);
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        timestamp = startMs + (long) (i * 1000 / ratePerSecond);
      }
      long index = from + i;
      producer.send(new ProducerRecord<>(topic, null, timestamp, factory.key(index), factory.request(index)),
          (metadata, e) -> {
            if (e != null) {
              failure.compareAndSet(null, e);
            } else {
              sent.incrementAndGet();
            }
          });
    }
    producer.flush();
    if (failure.get() != null) {
      throw new IllegalStateException("Producing requests failed: " + failure.get().getMessage(), failure.get());
    }
    return i;
  }

  /** Ends a running {@link #run} after the request it is sending (an open-ended load of unknown length). */
  public void stop() {
    stopped = true;
  }

  public long sent() {
    return sent.get();
  }

  public KafkaProducer<String, InferenceRequest> producer() {
    return producer;
  }

  @Override
  public void close() {
    producer.close();
  }
}

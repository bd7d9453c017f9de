package io.kinfer.dev.bench;

import io.kinfer.client.load.RequestFactory;
import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.publish.ResponseHeaders;
import io.kinfer.topology.publish.Responses;
import io.kinfer.topology.route.PlanRoutingTable;
import io.kinfer.worker.config.StreamsProperties;
import io.kinfer.worker.config.WorkerConfig;
import io.kinfer.worker.engine.OnnxEngine;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Option;

/**
 * Producer compression codecs on the worker's real answers ({@code ops bench --codecs}): answers of
 * real models (run through {@link OnnxEngine}, built as the worker builds them, Avro wire format,
 * with the worker's headers) produced to a fresh topic per codec by a producer configured as the
 * worker's Streams producer (its effective settings, transactions committed every
 * {@code commit.interval.ms} under exactly-once), then read back by a {@code read_committed}
 * consumer that decodes every value. Per codec: producer and consumer throughput, and the bytes the
 * broker stores (log size from {@code describeLogDirs}). Codecs alternate within each round; each
 * figure is its median round.
 */
final class CodecBench {
  static final List<String> CODECS = List.of("none", "gzip", "snappy", "lz4", "zstd");

  /** Sizes of the codec benchmark. */
  static final class Options {
    @Option(names = "--codecs", description = "measure producer compression codecs on real answers (sample MLP and"
        + " all-MiniLM-L6-v2) instead of the other parts: throughput of producer and consumer, bytes on the broker")
    boolean enabled;

    @Option(names = "--codec-list", split = ",", defaultValue = "none,gzip,snappy,lz4,zstd",
        description = "codecs measured, each optionally with a level (gzip:1, zstd:1, lz4:1); the first is the"
            + " reference of the ratios (default: ${DEFAULT-VALUE})")
    List<String> codecs;

    @Option(names = "--codec-models", split = ",", defaultValue = "mlp,minilm",
        description = "models whose answers are measured (default: ${DEFAULT-VALUE})")
    List<String> models;

    @Option(names = "--codec-answers", defaultValue = "2000", description = "distinct answers made per model by the"
        + " engine (default: ${DEFAULT-VALUE})")
    int answers;

    @Option(names = "--codec-mb", defaultValue = "32", description = "MB of answers (Avro values, uncompressed)"
        + " produced per codec, model and round, cycling through the distinct answers (default: ${DEFAULT-VALUE})")
    double mb;

    @Option(names = "--codec-rounds", defaultValue = "3", description = "rounds of all codecs; each figure is its"
        + " median round (default: ${DEFAULT-VALUE})")
    int rounds;
  }

  /** The answers of one model as the worker writes them to the predictions topic. */
  record Payloads(String model, List<byte[]> keys, List<byte[]> values, List<Header[]> headers, long valueBytes,
      long headerBytes) {
    int size() {
      return values.size();
    }

    double meanValueBytes() {
      return (double) valueBytes / size();
    }
  }

  /** One codec on one model's answers, at its median round. */
  record Row(String model, String codec, long records, long valueBytes, double produceSeconds,
      double consumeSeconds, long brokerBytes, double batchBytes, double produceCpuSeconds,
      double consumeCpuSeconds) {
    double produceRecordsPerSecond() {
      return records / produceSeconds;
    }

    double produceMegabytesPerSecond() {
      return valueBytes / 1e6 / produceSeconds;
    }

    double consumeRecordsPerSecond() {
      return records / consumeSeconds;
    }

    double consumeMegabytesPerSecond() {
      return valueBytes / 1e6 / consumeSeconds;
    }

    /** CPU of the producer's threads (the sending one and the producer's network thread) per record. */
    double produceCpuMicros() {
      return produceCpuSeconds * 1e6 / records;
    }

    /** CPU of the consumer's thread (fetch, decompression, Avro decoding) per record. */
    double consumeCpuMicros() {
      return consumeCpuSeconds * 1e6 / records;
    }

    /** Records per produced batch, estimated from the log size and the producer's mean batch size. */
    double recordsPerBatch() {
      return batchBytes > 0 ? records / (brokerBytes / batchBytes) : 0;
    }

    Map<String, Object> toMap(Row reference) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("records", records);
      m.put("value_bytes", valueBytes);
      m.put("produce_records_per_s", produceRecordsPerSecond());
      m.put("produce_mb_per_s", produceMegabytesPerSecond());
      m.put("consume_records_per_s", consumeRecordsPerSecond());
      m.put("consume_mb_per_s", consumeMegabytesPerSecond());
      m.put("produce_cpu_us_per_record", produceCpuMicros());
      m.put("consume_cpu_us_per_record", consumeCpuMicros());
      m.put("broker_bytes", brokerBytes);
      m.put("producer_batch_size_avg", batchBytes);
      m.put("broker_bytes_vs_" + reference.codec(), (double) brokerBytes / reference.brokerBytes());
      m.put("produce_vs_" + reference.codec(), reference.produceSeconds() / produceSeconds);
      m.put("consume_vs_" + reference.codec(), reference.consumeSeconds() / consumeSeconds);
      return m;
    }
  }

  private CodecBench() {}

  /**
   * Runs {@code n} requests of {@code factory} through the engine in batches of {@code batch} and
   * serializes each answer as the worker does: {@link Responses#batched}, the worker's headers, the
   * Avro wire serializer of the predictions topic.
   */
  static Payloads answers(OnnxEngine engine, ModelVersion version, RequestFactory factory, int n, int batch,
      SchemaRegistry registry, String predictionsTopic, String workerId) {
    AvroWireSerializer<InferenceResponse> serializer =
        new AvroWireSerializer<>(registry, InferenceResponse.getClassSchema(), false);
    List<byte[]> keys = new ArrayList<>(n);
    List<byte[]> values = new ArrayList<>(n);
    List<Header[]> headers = new ArrayList<>(n);
    long valueBytes = 0;
    long headerBytes = 0;
    for (int from = 0; from < n; from += batch) {
      List<InferenceRequest> requests = new ArrayList<>();
      for (int i = from; i < Math.min(n, from + batch); i++) {
        requests.add(factory.request(i));
      }
      long now = System.currentTimeMillis();
      BatchResult result = engine.infer(version, requests);
      long inferenceMicros = result.engineNanos() / 1000;
      for (int j = 0; j < requests.size(); j++) {
        BatchResult.Outcome outcome = result.outcomes().get(j);
        if (!outcome.isOk()) {
          throw new IllegalStateException(version + " failed request " + requests.get(j).getId() + ": "
              + outcome.error());
        }
        String key = factory.key(from + j);
        BufferedRequest buffered = BufferedRequest.newBuilder().setKey(key).setRequest(requests.get(j))
            .setVersion(version.version()).setVariant(PlanRoutingTable.PRIMARY).setPlanGeneration(3)
            .setRecordTimestamp(now - 40 - j).setEnqueuedAtMs(now - 20 - j).build();
        InferenceResponse response = Responses.batched(buffered, Status.OK, null, outcome.outputs(),
            (20L + j) * 1000, inferenceMicros, requests.size(), workerId);
        byte[] value = serializer.serialize(predictionsTopic, response);
        Header[] h = ResponseHeaders.of(response).toArray();
        for (Header header : h) {
          headerBytes += header.key().length() + header.value().length;
        }
        keys.add(key.getBytes(StandardCharsets.UTF_8));
        values.add(value);
        headers.add(h);
        valueBytes += value.length;
      }
    }
    return new Payloads(version.toString(), keys, values, headers, valueBytes, headerBytes);
  }

  /**
   * The worker's Streams producer settings as Kafka Streams computes them from {@code workerSettings}
   * (its overrides and the worker's own choices), without the Streams-only keys.
   */
  static Map<String, Object> workerProducerConfig(Map<String, Object> workerSettings) {
    StreamsConfig streams = new StreamsConfig(StreamsProperties.of(new WorkerConfig(workerSettings), "codec-bench"));
    Map<String, Object> producer = new HashMap<>(streams.getProducerConfigs("codec-bench-producer"));
    producer.keySet().retainAll(ProducerConfig.configNames());
    return producer;
  }

  /** Whether the worker with these settings writes its answers in transactions, and how often it commits. */
  private static long commitIntervalMs(Map<String, Object> workerSettings) {
    WorkerConfig config = new WorkerConfig(workerSettings);
    String guarantee = config.getString(WorkerConfig.PROCESSING_GUARANTEE_CONFIG);
    return StreamsConfig.AT_LEAST_ONCE.equals(guarantee) ? 0 : config.getLong(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG);
  }

  /**
   * Produces and reads back every payload set with every codec, {@code o.rounds} times.
   *
   * @param client Kafka client settings of a user allowed to create and delete topics
   * @param workerSettings the settings of the worker whose producer is imitated
   */
  static Map<String, List<Row>> run(Map<String, Object> client, SchemaRegistry registry,
      Map<String, Object> workerSettings, List<Payloads> payloads, Options o, int partitions, PrintStream out,
      PrintStream progress) throws Exception {
    Map<String, Object> producerConfig = workerProducerConfig(workerSettings);
    producerConfig.putAll(client);
    long commitMs = commitIntervalMs(workerSettings);
    out.printf("Codecs: producer as the worker's (linger.ms=%s, batch.size=%s, acks=%s, enable.idempotence=%s, %s),"
        + " %d partitions, median of %d rounds%n", producerConfig.get(ProducerConfig.LINGER_MS_CONFIG),
        effective(producerConfig, ProducerConfig.BATCH_SIZE_CONFIG), effective(producerConfig, ProducerConfig.ACKS_CONFIG),
        effective(producerConfig, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG),
        commitMs > 0 ? "a transaction committed every " + commitMs + " ms" : "no transactions", partitions, o.rounds);
    Map<String, List<Row>> rows = new LinkedHashMap<>();
    try (Admin admin = Admin.create(client)) {
      List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(Node::id).toList();
      for (Payloads p : payloads) {
        long records = Math.max(1, Math.round(o.mb * 1e6 / p.meanValueBytes()));
        // Unmeasured: the first codec of a cold JVM would pay for the JIT of the whole produce path.
        for (String codec : o.codecs) {
          once(admin, brokers, client, registry, producerConfig, commitMs, p, codec, Math.min(records, p.size()),
              partitions, "warmup");
        }
        List<List<Row>> rounds = new ArrayList<>();
        for (int round = 0; round < o.rounds; round++) {
          List<Row> measured = new ArrayList<>();
          for (String codec : o.codecs) {
            Row row = once(admin, brokers, client, registry, producerConfig, commitMs, p, codec, records, partitions,
                "r" + round);
            progress.printf("  codec round %d/%d  %-8s %-7s produce %6.2f s, consume %6.2f s, %,d bytes on the"
                + " broker%n", round + 1, o.rounds, p.model(), codec, row.produceSeconds(), row.consumeSeconds(),
                row.brokerBytes());
            measured.add(row);
          }
          rounds.add(measured);
        }
        List<Row> medians = new ArrayList<>();
        for (int c = 0; c < o.codecs.size(); c++) {
          int index = c;
          List<Row> of = rounds.stream().map(r -> r.get(index)).toList();
          Row first = of.get(0);
          medians.add(new Row(first.model(), first.codec(), first.records(), first.valueBytes(),
              median(of.stream().mapToDouble(Row::produceSeconds).toArray()),
              median(of.stream().mapToDouble(Row::consumeSeconds).toArray()),
              Math.round(median(of.stream().mapToDouble(Row::brokerBytes).toArray())),
              median(of.stream().mapToDouble(Row::batchBytes).toArray()),
              median(of.stream().mapToDouble(Row::produceCpuSeconds).toArray()),
              median(of.stream().mapToDouble(Row::consumeCpuSeconds).toArray())));
        }
        rows.put(p.model(), medians);
        print(p, medians, out);
      }
    }
    return rows;
  }

  /** One codec, one round: a fresh topic, produced, measured on the broker, read back, deleted. */
  private static Row once(Admin admin, List<Integer> brokers, Map<String, Object> client, SchemaRegistry registry,
      Map<String, Object> producerConfig, long commitMs, Payloads p, String codec, long records, int partitions,
      String round) throws Exception {
    String topic = "bench.codec." + p.model().replace(':', '-') + "." + codec.replace(':', '-') + "." + round;
    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    try {
      Map<String, Object> config = new HashMap<>(producerConfig);
      config.putAll(codecConfig(codec));
      config.put(ProducerConfig.CLIENT_ID_CONFIG, topic);
      if (commitMs > 0) {
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, topic);
      }
      double produceSeconds;
      double produceCpuSeconds;
      double batchBytes;
      long valueBytes = 0;
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
          new ByteArraySerializer())) {
        AtomicReference<Exception> failure = new AtomicReference<>();
        if (commitMs > 0) {
          producer.initTransactions();
        }
        long start = System.nanoTime();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long lastCommit = start;
        if (commitMs > 0) {
          producer.beginTransaction();
        }
        for (long i = 0; i < records; i++) {
          int k = (int) (i % p.size());
          byte[] value = p.values().get(k);
          valueBytes += value.length;
          producer.send(new ProducerRecord<>(topic, null, null, p.keys().get(k), value, Arrays.asList(p.headers().get(k))),
              (metadata, e) -> {
                if (e != null) {
                  failure.compareAndSet(null, e);
                }
              });
          if (commitMs > 0 && System.nanoTime() - lastCommit >= commitMs * 1_000_000) {
            producer.commitTransaction();
            producer.beginTransaction();
            lastCommit = System.nanoTime();
          }
        }
        if (commitMs > 0) {
          producer.commitTransaction();
        } else {
          producer.flush();
        }
        produceSeconds = (System.nanoTime() - start) / 1e9;
        // Records are compressed partly as they are appended (this thread), partly as batches are
        // closed for sending (the producer's network thread): both count.
        produceCpuSeconds = (THREADS.getCurrentThreadCpuTime() - cpu0 + networkThreadCpu(topic)) / 1e9;
        if (failure.get() != null) {
          throw new IllegalStateException("Producing with " + codec + " failed: " + failure.get(), failure.get());
        }
        batchBytes = metric(producer.metrics(), "batch-size-avg");
      }
      long brokerBytes = logBytes(admin, brokers, topic);
      double[] consumed = consume(client, registry, topic, partitions, records);
      return new Row(p.model(), codec, records, valueBytes, produceSeconds, consumed[0], brokerBytes, batchBytes,
          produceCpuSeconds, consumed[1]);
    } finally {
      admin.deleteTopics(List.of(topic)).all().get();
    }
  }

  /**
   * Seconds a read_committed consumer takes to fetch, decompress and Avro-decode all {@code records},
   * and the CPU seconds of its thread (the classic consumer fetches and decompresses in poll).
   */
  private static double[] consume(Map<String, Object> client, SchemaRegistry registry, String topic, int partitions,
      long records) {
    Map<String, Object> config = new HashMap<>(client);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, topic + ".reader");
    try (KafkaConsumer<byte[], InferenceResponse> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
        new AvroWireDeserializer<>(registry, InferenceResponse.getClassSchema()))) {
      List<TopicPartition> all = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        all.add(new TopicPartition(topic, i));
      }
      consumer.assign(all);
      consumer.seekToBeginning(all);
      long read = 0;
      long start = System.nanoTime();
      long cpu0 = THREADS.getCurrentThreadCpuTime();
      long deadline = System.currentTimeMillis() + 300_000;
      while (read < records) {
        for (ConsumerRecord<byte[], InferenceResponse> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.value().getOutputs().isEmpty()) {
            throw new IllegalStateException(topic + ": an answer without outputs at offset " + record.offset());
          }
          read++;
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException(topic + ": read " + read + " of " + records);
        }
      }
      return new double[] {(System.nanoTime() - start) / 1e9, (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e9};
    }
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** CPU nanoseconds of the network thread of the producer with this client id (it lives as long as the producer). */
  private static long networkThreadCpu(String clientId) {
    long nanos = 0;
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("kafka-producer-network-thread | " + clientId)) {
        nanos += Math.max(0, THREADS.getThreadCpuTime(info.getThreadId()));
      }
    }
    return nanos;
  }

  /** Producer settings of a codec named as {@code --codec-list} does: {@code gzip}, or with a level {@code gzip:1}. */
  static Map<String, Object> codecConfig(String codec) {
    String[] parts = codec.split(":", 2);
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, parts[0]);
    if (parts.length == 2) {
      config.put("compression." + parts[0] + ".level", Integer.parseInt(parts[1]));
    }
    return config;
  }

  /** Bytes of the topic's logs on all brokers, as the brokers report them. */
  private static long logBytes(Admin admin, List<Integer> brokers, String topic) throws Exception {
    long bytes = 0;
    for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
      for (LogDirDescription dir : dirs.values()) {
        for (Map.Entry<TopicPartition, ReplicaInfo> replica : dir.replicaInfos().entrySet()) {
          if (replica.getKey().topic().equals(topic)) {
            bytes += replica.getValue().size();
          }
        }
      }
    }
    return bytes;
  }

  /** The value set in {@code config}, else the producer's default. */
  private static Object effective(Map<String, Object> config, String key) {
    return config.getOrDefault(key, ProducerConfig.configDef().defaultValues().get(key));
  }

  private static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
    return metrics.entrySet().stream()
        .filter(e -> e.getKey().name().equals(name) && e.getKey().group().equals("producer-metrics"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).findFirst().orElse(Double.NaN);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  private static void print(Payloads p, List<Row> rows, PrintStream out) {
    Row ref = rows.get(0);
    out.printf("  %s answers: %,d distinct, mean %,.0f bytes (Avro value) + %.0f bytes of headers; %,d records"
        + " (%.1f MB of values) per codec%n", p.model(), p.size(), p.meanValueBytes(),
        (double) p.headerBytes() / p.size(), ref.records(), ref.valueBytes() / 1e6);
    out.printf("  %-7s %14s %12s %12s %14s %12s %12s %16s %9s %10s%n", "codec", "produce rec/s", "produce MB/s",
        "prod CPU us", "consume rec/s", "consume MB/s", "cons CPU us", "bytes on broker", "vs " + ref.codec(),
        "rec/batch");
    for (Row r : rows) {
      out.printf("  %-7s %,14.0f %12.1f %12.1f %,14.0f %12.1f %12.1f %,16d %8.1f%% %10.1f%n", r.codec(),
          r.produceRecordsPerSecond(), r.produceMegabytesPerSecond(), r.produceCpuMicros(), r.consumeRecordsPerSecond(),
          r.consumeMegabytesPerSecond(), r.consumeCpuMicros(), r.brokerBytes(), 100.0 * r.brokerBytes() / ref.brokerBytes(),
          r.recordsPerBatch());
    }
    out.println("  (prod/cons CPU us: CPU microseconds per answer of the producer's threads / the consumer's thread)");
  }
}

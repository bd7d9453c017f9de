package io.kinfer.client.control;

import io.kinfer.client.security.ClientSettings;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.ReadToEnd;
import io.kinfer.topology.Topics;
import io.kinfer.topology.control.ControlSigning;
import io.kinfer.topology.control.PlanEdits;
import io.kinfer.topology.route.Plan;
import io.kinfer.worker.config.TopicSetup;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Issues signed rollout plans: writes each to the compacted control topic (what workers obey) and
 * to the control history topic (what rollback reads; compaction would forget it), both in one
 * Kafka transaction, so a read_committed reader sees both records or neither: a crash between
 * them cannot leave a plan in force that rollback does not know. Every change is a complete plan
 * with the next generation, so workers never merge partial updates.
 */
public final class ControlClient implements AutoCloseable {
  /** Start of every transactional id this client makes up (see {@link #transactionalId}). */
  public static final String TRANSACTIONAL_ID_PREFIX = "kinfer-ctl/";
  /**
   * A transaction left open by a client that died mid-publish holds back every read_committed
   * reader of the control topic (workers, rollback) until it times out or the same id starts
   * again: keep that bound short. Two records take milliseconds to write.
   */
  static final int TRANSACTION_TIMEOUT_MS = 15_000;

  private final Map<String, Object> client;
  private final SchemaRegistry registry;
  private final Topics topics;
  private final String keyId;
  private final PrivateKey key;
  private final String issuer;
  private final Map<String, Object> producerConfig;
  private final AvroWireDeserializer<ControlCommand> decoder;
  private final Map<String, ControlCommand> latest = new HashMap<>();
  private final Map<String, List<ControlCommand>> issued = new HashMap<>();
  private KafkaConsumer<String, byte[]> reader;
  /** Per partition, the offset after the last record this client published: catchUp reads up to it. */
  private final Map<TopicPartition, Long> ownWrites = new HashMap<>();
  /** Tests only: runs after the control record is sent and before the history record. */
  Runnable betweenWrites = () -> {};

  public ControlClient(String bootstrap, SchemaRegistry registry, Topics topics, String keyId, PrivateKey key,
      String issuer) {
    this(Map.of("bootstrap.servers", bootstrap), registry, topics, keyId, key, issuer);
  }

  /** @param client Kafka client settings: bootstrap and, on a secured cluster, security */
  public ControlClient(Map<String, Object> client, SchemaRegistry registry, Topics topics, String keyId,
      PrivateKey key, String issuer) {
    this.client = Map.copyOf(client);
    this.registry = registry;
    this.topics = topics;
    this.keyId = keyId;
    this.key = key;
    this.issuer = issuer;
    this.decoder = topics.controlTopic().valueDeserializer(registry);
    if (key != null) {
      ensureHistoryTopic(client, topics);
    }
    Map<String, Object> producerConfig = new HashMap<>(client);
    producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
    producerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(client, topics, issuer));
    producerConfig.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
    this.producerConfig = Map.copyOf(producerConfig);
  }

  /**
   * The transactional id of this client's plan writes: {@code transactional.id} from the client
   * settings if set, else {@value #TRANSACTIONAL_ID_PREFIX}{@code <control topic>/<client.id>} or,
   * without a client.id, {@code .../<issuer>@<host>}. Stable, so a client that starts again
   * aborts a transaction its crashed predecessor left open at once (instead of every worker
   * waiting out the transaction timeout); distinct per operator and machine, so two operators
   * do not fence each other (two concurrent processes of one issuer on one machine do: the fenced
   * publish fails, nothing half-written). The ops principal needs Write and Describe on transactional ids with
   * the prefix {@link #transactionalIdPrefix} ({@code WorkerAcls.operator} grants it).
   */
  static String transactionalId(Map<String, Object> client, Topics topics, String issuer) {
    Object configured = client.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    if (configured != null && !configured.toString().isBlank()) {
      return configured.toString();
    }
    Object clientId = client.get(ProducerConfig.CLIENT_ID_CONFIG);
    String who = clientId != null && !clientId.toString().isBlank() ? clientId.toString() : issuer + "@" + host();
    return transactionalIdPrefix(topics) + who;
  }

  /** What every made-up transactional id for {@code topics}' control topic starts with. */
  public static String transactionalIdPrefix(Topics topics) {
    return TRANSACTIONAL_ID_PREFIX + topics.control() + "/";
  }

  private static String host() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "unknown-host";
    }
  }

  private static void ensureHistoryTopic(Map<String, Object> client, Topics topics) {
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(client)) {
      if (!admin.listTopics().names().get().contains(topics.history().name())) {
        TopicSetup.createIfAbsent(admin, List.of(topics.history().newTopic(1)));
      }
    } catch (Exception e) {
      throw new IllegalStateException("Cannot create " + topics.history().name() + " (rollback needs it): "
          + e.getMessage(), e);
    }
  }

  /** The newest valid plan per model on the control topic. */
  public synchronized Map<String, ControlCommand> currentPlans() {
    catchUp();
    return Map.copyOf(latest);
  }

  public Optional<ControlCommand> currentPlan(String model) {
    return Optional.ofNullable(currentPlans().get(model));
  }

  /** Every plan ever issued for {@code model}, oldest first. */
  public synchronized List<ControlCommand> history(String model) {
    catchUp();
    List<ControlCommand> out = new ArrayList<>(issued.getOrDefault(model, List.of()));
    out.sort(Comparator.comparingLong(ControlCommand::getGeneration));
    return out;
  }

  /**
   * Reads the control and history topics from where the last call stopped up to their current
   * end: the first call reads them whole, later ones only what is new (a plan change costs one
   * round trip, not a fresh consumer per read).
   */
  private void catchUp() {
    if (reader == null) {
      reader = new KafkaConsumer<>(ClientSettings.committedReader(client), new StringDeserializer(),
          new org.apache.kafka.common.serialization.ByteArrayDeserializer());
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : List.of(topics.control(), topics.history().name())) {
        reader.partitionsFor(t, Duration.ofSeconds(30)).forEach(p -> partitions.add(new TopicPartition(t, p.partition())));
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
    }
    Map<TopicPartition, Long> end = new HashMap<>(reader.endOffsets(reader.assignment()));
    // Read this client's own plans even if the commit markers are not written yet (the broker
    // writes them after commitTransaction returns; until then read_committed ends before them).
    ownWrites.forEach((tp, next) -> end.merge(tp, next, Math::max));
    ReadToEnd.poll(reader, end, Duration.ofSeconds(60), topics.control() + " and its history", r -> {
      ControlCommand c = decode(r.topic(), r.value());
      if (c == null) {
        return;
      }
      String model = c.getModel().toString();
      if (r.topic().equals(topics.control())) {
        latest.merge(model, c, (x, y) -> y.getGeneration() > x.getGeneration() ? y : x);
      } else {
        issued.computeIfAbsent(model, m -> new ArrayList<>()).add(c);
      }
    });
  }

  /** A valid plan, or null: what workers would not accept is not a plan here either. */
  private ControlCommand decode(String topic, byte[] value) {
    try {
      ControlCommand c = value == null ? null : decoder.deserialize(topic, value);
      if (c != null) {
        Plan.of(c);
      }
      return c;
    } catch (RuntimeException notAPlan) {
      return null;
    }
  }

  /** Blue/green: {@code version} takes 100% at once. */
  public ControlCommand deploy(String model, String version) {
    return publish(model, PlanEdits.deploy(version), currentPlan(model));
  }

  /** The primary keeps (100 - percent)%, {@code version} gets percent% as CANARY; shadows stay. */
  public ControlCommand canary(String model, String version, double percent) {
    ControlCommand current = requirePlan(model);
    return publish(model, PlanEdits.canary(current, version, percent), Optional.of(current));
  }

  /** A/B: variants with weights (normalised to 1), sticky per routing key. */
  public ControlCommand ab(String model, Map<String, Double> weights) {
    return publish(model, PlanEdits.ab(weights), currentPlan(model));
  }

  /** Adds (or replaces) a shadow version with a sample rate in (0, 1]; serving is unchanged. */
  public ControlCommand shadow(String model, String version, double sample) {
    ControlCommand current = requirePlan(model);
    return publish(model, PlanEdits.shadow(current, version, sample), Optional.of(current));
  }

  /** The canary (else the only shadow) becomes the primary at 100%. */
  public ControlCommand promote(String model) {
    ControlCommand current = requirePlan(model);
    return publish(model, PlanEdits.promote(current), Optional.of(current));
  }

  /** Re-issues the plan that was in force before the current one, exactly (routes, salt, batching). */
  public ControlCommand rollback(String model) {
    return restore(PlanEdits.rollbackTarget(model, history(model)));
  }

  /** Re-issues {@code previous} exactly (routes, salt, batching) under the next generation. */
  public ControlCommand restore(ControlCommand previous) {
    return publish(previous.getModel().toString(), previous.getRoutes(), Optional.of(previous),
        previous.getMaxBatchSize(), previous.getMaxWaitMs(), previous.getSalt());
  }

  /** Batching overrides for a model, serving unchanged. */
  public ControlCommand batching(String model, Integer maxBatchSize, Long maxWaitMs) {
    ControlCommand current = requirePlan(model);
    return publish(model, current.getRoutes(), Optional.of(current), maxBatchSize, maxWaitMs, current.getSalt());
  }

  private ControlCommand requirePlan(String model) {
    return currentPlan(model).orElseThrow(() -> new IllegalStateException("No plan for model '" + model
        + "' yet; start with: ops ctl deploy " + model + " VERSION"));
  }

  private ControlCommand publish(String model, List<Route> routes, Optional<ControlCommand> base) {
    return publish(model, routes, base, base.map(ControlCommand::getMaxBatchSize).orElse(null),
        base.map(ControlCommand::getMaxWaitMs).orElse(null),
        base.map(ControlCommand::getSalt).orElse(UUID.randomUUID().toString().substring(0, 8)));
  }

  private ControlCommand publish(String model, List<Route> routes, Optional<ControlCommand> base,
      Integer maxBatchSize, Long maxWaitMs, String salt) {
    if (key == null) {
      throw new IllegalStateException("Signing key needed: pass --key FILE (see 'ops keys generate')");
    }
    long generation = PlanEdits.nextGeneration(currentPlan(model), history(model));
    ControlCommand command = ControlCommand.newBuilder().setModel(model).setGeneration(generation)
        .setRoutes(routes).setSalt(salt).setMaxBatchSize(maxBatchSize).setMaxWaitMs(maxWaitMs)
        .setIssuer(issuer).setIssuedAt(Instant.now()).build();
    Plan.of(command); // refuse to publish what workers would reject as invalid
    ControlCommand signed = ControlSigning.sign(command, keyId, key);
    write(model, signed);
    // Return once read_committed readers see both records (the commit markers follow the commit's
    // return): a command issued next, by this client or another, starts from this plan.
    currentPlans();
    return signed;
  }

  /**
   * The control and the history record in one transaction. A producer per publish: plans change
   * rarely, and a producer held between publishes (ops ctl canary --auto holds this client for
   * minutes) would be fenced by any other publish under the same transactional id meanwhile.
   */
  private void write(String model, ControlCommand signed) {
    String what = "Cannot publish the plan to " + topics.control() + " and " + topics.history().name();
    // The control and history topics hold the same record: one serializer for both.
    try (KafkaProducer<String, ControlCommand> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
        topics.controlTopic().valueSerializer(registry))) {
      producer.initTransactions();
      producer.beginTransaction();
      try {
        Future<RecordMetadata> control = producer.send(new ProducerRecord<>(topics.control(), model, signed));
        betweenWrites.run();
        Future<RecordMetadata> history = producer.send(new ProducerRecord<>(topics.history().name(), model, signed));
        producer.commitTransaction();
        written(control.get());
        written(history.get());
      } catch (InterruptedException e) {
        throw new org.apache.kafka.common.errors.InterruptException(e);
      } catch (ExecutionException e) { // not after a successful commit; for the compiler
        throw new org.apache.kafka.common.KafkaException(e.getCause());
      } catch (RuntimeException e) {
        try {
          producer.abortTransaction();
        } catch (RuntimeException abort) {
          // Fenced or otherwise fatal: the broker aborts the transaction (a newer producer of the
          // id did, or the timeout will); either way neither record becomes visible.
          e.addSuppressed(abort);
        }
        throw e;
      }
    } catch (TransactionalIdAuthorizationException e) {
      throw new IllegalStateException(what + ": this principal may not use transactional id '"
          + producerConfig.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) + "' (grant Write and Describe on"
          + " transactional ids prefixed '" + transactionalIdPrefix(topics) + "', as 'ops security init' does)", e);
    } catch (RuntimeException e) {
      throw new IllegalStateException(what + ": " + e.getMessage(), e);
    }
  }

  private synchronized void written(RecordMetadata m) {
    ownWrites.merge(new TopicPartition(m.topic(), m.partition()), m.offset() + 1, Math::max);
  }

  @Override
  public synchronized void close() {
    if (reader != null) {
      reader.close(Duration.ofSeconds(2));
    }
  }
}

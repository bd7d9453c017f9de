package io.kinfer.worker.config;

import io.kinfer.topology.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Makes sure the worker's topics exist before Kafka Streams starts. The request topic must exist
 * (its partitions are the unit of parallelism, a deliberate choice); outputs get the request
 * topic's partition count, control and status one compacted partition each.
 */
public final class TopicSetup {
  private TopicSetup() {}

  /** Creates each topic unless it exists (another worker or an operator may have been first). */
  public static void createIfAbsent(Admin admin, List<NewTopic> topics) throws InterruptedException {
    for (NewTopic topic : topics) {
      try {
        admin.createTopics(List.of(topic)).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("Cannot create topic " + topic.name() + ": " + e.getCause().getMessage()
              + " (create it yourself, or grant Create on it)", e.getCause());
        }
      }
    }
  }

  /** How long a starting worker waits for its request topic to exist and be visible to it. */
  static final long REQUEST_TOPIC_WAIT_MS = 15_000;

  private static Set<String> listTopics(Admin admin, Map<String, Object> adminConfig) throws Exception {
    try {
      return admin.listTopics().names().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new ConfigException("Cannot reach Kafka at " + adminConfig.get("bootstrap.servers") + " within 30 s:"
          + " check bootstrap.servers, that the brokers run, and the kafka.security.* settings");
    }
  }

  /** How long a starting worker waits for the topics it created to have leaders. */
  static final long CREATED_TOPIC_WAIT_MS = 30_000;

  /**
   * Waits until freshly created topics have a leader for every partition in the metadata a broker
   * serves: creation returns when the controller has the topic, and a Streams client asking a broker
   * just after it may find no partitions (its global store then fails to start).
   */
  static void awaitLeaders(Admin admin, List<String> names) throws Exception {
    long deadline = System.currentTimeMillis() + CREATED_TOPIC_WAIT_MS;
    while (!names.isEmpty()) {
      try {
        boolean led = admin.describeTopics(names).allTopicNames().get().values().stream()
            .allMatch(t -> !t.partitions().isEmpty() && t.partitions().stream().allMatch(p -> p.leader() != null));
        if (led) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
          throw e;
        }
      }
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("Topics " + names + " were created but have no leader after "
            + CREATED_TOPIC_WAIT_MS / 1000 + " s: check the brokers' health (kafka-topics --describe)");
      }
      Thread.sleep(100); // polling the cluster's metadata; nothing here to wait on
    }
  }

  public static void ensure(Map<String, Object> adminConfig, Topics topics, boolean create, List<String> extra)
      throws Exception {
    Admin admin = Admin.create(adminConfig);
    try {
      Set<String> visible = listTopics(admin, adminConfig);
      // An operator or init container may create the topic (or the ACL that makes it visible to this
      // principal) just before the worker starts, and ACLs reach brokers asynchronously: wait a little.
      long deadline = System.currentTimeMillis() + REQUEST_TOPIC_WAIT_MS;
      while (!visible.contains(topics.requests()) && System.currentTimeMillis() < deadline) {
        Thread.sleep(250); // polling the cluster's metadata; nothing here to wait on
        visible = listTopics(admin, adminConfig);
      }
      Set<String> existing = visible;
      if (!existing.contains(topics.requests())) {
        throw new ConfigException("The request topic '" + topics.requests() + "' does not exist (or this principal"
            + " may not Describe it); create it with the"
            + " partition count you want to scale to (kafka-topics --create --topic " + topics.requests() + ")");
      }
      int partitions = admin.describeTopics(List.of(topics.requests())).allTopicNames().get()
          .get(topics.requests()).partitions().size();
      List<NewTopic> wanted = new ArrayList<>(topics.outputs().stream().map(t -> t.newTopic(partitions)).toList());
      extra.forEach(t -> wanted.add(new NewTopic(t, Optional.of(1), Optional.empty())));
      List<NewTopic> absent = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
      if (!create && !absent.isEmpty()) {
        throw new ConfigException("Missing topics " + absent.stream().map(NewTopic::name).toList()
            + " and topics.create=false: create them first");
      }
      createIfAbsent(admin, absent);
      awaitLeaders(admin, absent.stream().map(NewTopic::name).toList());
    } finally {
      admin.close(java.time.Duration.ofSeconds(2)); // don't wait out pending calls to an unreachable cluster
    }
  }
}

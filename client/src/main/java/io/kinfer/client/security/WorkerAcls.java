package io.kinfer.client.security;

import io.kinfer.client.control.ControlClient;
import io.kinfer.topology.Topics;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least-privilege ACLs of a deployment: the worker principal reads requests and control (and
 * its own status back at start) and writes its outputs (plus its Kafka Streams resources, all
 * prefixed by the application id); the ops principal alone writes the control topic; clients
 * produce requests and read predictions.
 */
public final class WorkerAcls {
  private WorkerAcls() {}

  public static List<AclBinding> worker(String principal, Topics topics, String applicationId) {
    List<AclBinding> acls = new ArrayList<>();
    for (String t : List.of(topics.requests(), topics.control())) {
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.READ));
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.DESCRIBE));
    }
    for (String t : List.of(topics.predictions(), topics.deadLetters(), topics.shadow(), topics.comparisons(),
        topics.status())) {
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.WRITE));
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.DESCRIBE));
    }
    // A starting worker reads its own last status back: which rejections it has published already.
    acls.add(allow(principal, ResourceType.TOPIC, topics.status(), PatternType.LITERAL, AclOperation.READ));
    acls.add(allow(principal, ResourceType.TOPIC, applicationId, PatternType.PREFIXED, AclOperation.ALL));
    acls.add(allow(principal, ResourceType.GROUP, applicationId, PatternType.PREFIXED, AclOperation.READ));
    acls.add(allow(principal, ResourceType.TRANSACTIONAL_ID, applicationId, PatternType.PREFIXED, AclOperation.WRITE));
    acls.add(allow(principal, ResourceType.TRANSACTIONAL_ID, applicationId, PatternType.PREFIXED, AclOperation.DESCRIBE));
    return acls;
  }

  /**
   * Read, write and describe the control topic and its history (who may change what serves), use
   * the transactional ids that write both in one transaction, and write the status topic (ops ctl
   * canary --auto records its decisions there).
   */
  public static List<AclBinding> operator(String principal, Topics topics) {
    List<AclBinding> acls = new ArrayList<>();
    for (String t : List.of(topics.control(), topics.history().name())) {
      for (AclOperation op : List.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE)) {
        acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, op));
      }
    }
    for (AclOperation op : List.of(AclOperation.WRITE, AclOperation.DESCRIBE)) {
      acls.add(allow(principal, ResourceType.TRANSACTIONAL_ID, ControlClient.transactionalIdPrefix(topics),
          PatternType.PREFIXED, op));
    }
    acls.add(allow(principal, ResourceType.TOPIC, topics.status(), PatternType.LITERAL, AclOperation.WRITE));
    return acls;
  }

  /** An application that sends requests and reads predictions (by assignment, without a group). */
  public static List<AclBinding> client(String principal, Topics topics) {
    List<AclBinding> acls = new ArrayList<>();
    acls.add(allow(principal, ResourceType.TOPIC, topics.requests(), PatternType.LITERAL, AclOperation.WRITE));
    acls.add(allow(principal, ResourceType.TOPIC, topics.requests(), PatternType.LITERAL, AclOperation.DESCRIBE));
    for (String t : List.of(topics.predictions(), topics.deadLetters())) {
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.READ));
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.DESCRIBE));
    }
    return acls;
  }

  /** Plans, status, predictions and comparisons readable, nothing writable: for ops ctl status, dashboards, auditors. */
  public static List<AclBinding> observer(String principal, Topics topics) {
    List<AclBinding> acls = new ArrayList<>();
    for (String t : List.of(topics.control(), topics.history().name(), topics.status(), topics.comparisons(),
        topics.predictions())) {
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.READ));
      acls.add(allow(principal, ResourceType.TOPIC, t, PatternType.LITERAL, AclOperation.DESCRIBE));
    }
    return acls;
  }

  /** The Confluent Schema Registry's own store: its topic (read, write, check its cleanup policy) and group. */
  public static List<AclBinding> schemaRegistry(String principal, String topic, String group) {
    List<AclBinding> acls = new ArrayList<>();
    for (AclOperation op : List.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE,
        AclOperation.DESCRIBE_CONFIGS)) {
      acls.add(allow(principal, ResourceType.TOPIC, topic, PatternType.LITERAL, op));
    }
    acls.add(allow(principal, ResourceType.GROUP, group, PatternType.PREFIXED, AclOperation.READ));
    acls.add(allow(principal, ResourceType.GROUP, group, PatternType.PREFIXED, AclOperation.DESCRIBE));
    return acls;
  }

  public static AclBinding allow(String user, ResourceType type, String name, PatternType pattern, AclOperation op) {
    return new AclBinding(new ResourcePattern(type, name, pattern),
        new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW));
  }
}

package io.kinfer.client.security;

import io.kinfer.topology.Topics;
import io.kinfer.worker.config.TopicSetup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;

/**
 * What an administrator sets up once per cluster, idempotently: the topics, the SCRAM users and the
 * least-privilege ACLs. Used by the secured dev stack and by {@code ops security init} (compose).
 */
public final class ClusterSetup {
  /** The Confluent Schema Registry's store topic and group (its defaults). */
  public static final String SCHEMAS_TOPIC = "_schemas";
  public static final String SCHEMA_REGISTRY_GROUP = "schema-registry";

  /** Principals of a deployment; {@code schemaRegistry} may be null (no registry principal). */
  public record Principals(String worker, String ops, String client, String schemaRegistry) {}

  private ClusterSetup() {}

  /** Every topic of a deployment; requests and outputs get {@code partitions}, plans one compacted partition. */
  public static void createTopics(Admin admin, Topics topics, int partitions, boolean schemasTopic)
      throws InterruptedException {
    List<NewTopic> all = new ArrayList<>(topics.all().stream().map(t -> t.newTopic(partitions)).toList());
    if (schemasTopic) {
      all.add(Topics.Spec.raw(SCHEMAS_TOPIC, false, true).newTopic(partitions));
    }
    TopicSetup.createIfAbsent(admin, all);
  }

  /** The ACLs of each principal: see {@link WorkerAcls}. */
  public static List<AclBinding> acls(Topics topics, String applicationId, Principals who) {
    List<AclBinding> acls = new ArrayList<>(WorkerAcls.worker(who.worker(), topics, applicationId));
    acls.addAll(WorkerAcls.operator(who.ops(), topics));
    acls.addAll(WorkerAcls.observer(who.ops(), topics));
    acls.addAll(WorkerAcls.client(who.client(), topics));
    if (who.schemaRegistry() != null) {
      acls.addAll(WorkerAcls.schemaRegistry(who.schemaRegistry(), SCHEMAS_TOPIC, SCHEMA_REGISTRY_GROUP));
    }
    return acls;
  }

  /** Creates or re-keys SCRAM-SHA-512 credentials (so a rotated password file takes effect on re-run). */
  public static void upsertScramUsers(Admin admin, Map<String, String> users) throws Exception {
    List<org.apache.kafka.clients.admin.UserScramCredentialAlteration> changes = new ArrayList<>();
    users.forEach((user, password) -> changes.add(new UserScramCredentialUpsertion(user,
        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)));
    admin.alterUserScramCredentials(changes).all().get();
  }
}

package io.kinfer.ops.security;

import io.kinfer.client.security.ClusterSetup;
import io.kinfer.client.security.SaslUsers;
import io.kinfer.topology.Topics;
import io.kinfer.worker.config.WorkerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ops security init}: topics, SCRAM users, ACLs and client files of a SASL_SSL cluster. */
@Command(name = "security", mixinStandardHelpOptions = true, description = "Secure a cluster for kinfer.",
    subcommands = SecurityCommand.Init.class)
public final class SecurityCommand {
  /** The users {@code init} makes up passwords for; their files are named after them. */
  public static final List<String> USERS = List.of("worker", "ops", "loadgen");
  public static final String ADMIN_USER = "admin";
  public static final String SCHEMA_REGISTRY_USER = "schema-registry";

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {"As the broker's admin user: create the topics, the SCRAM users worker, ops and loadgen",
          "(random passwords kept in --secrets), their least-privilege ACLs, and ready-to-use files:",
          "worker.properties (worker config: ops worker FILE), ops.properties and loadgen.properties",
          "(--client-config). Idempotent: run it again after adding a partition count or a password file."})
  static final class Init implements Callable<Integer> {
    @Option(names = "--bootstrap", required = true, description = "SASL_SSL listener, e.g. kafka:9092")
    String bootstrap;

    @Option(names = "--admin-password", required = true, defaultValue = "${env:KAFKA_ADMIN_PASSWORD}",
        description = "password of the broker's super user '" + ADMIN_USER + "' (default: $KAFKA_ADMIN_PASSWORD)")
    String adminPassword;

    @Option(names = "--ca-file", required = true, description = "PEM certificate of the CA that signed the broker's")
    Path caFile;

    @Option(names = "--secrets", required = true, description = "where passwords and client files go")
    Path secrets;

    @Option(names = "--schema-registry-password", defaultValue = "${env:SR_KAFKA_PASSWORD}",
        description = "also create user '" + SCHEMA_REGISTRY_USER + "' with this password and the"
            + " ACLs of its _schemas store (default: $SR_KAFKA_PASSWORD; none = skip)")
    String schemaRegistryPassword;

    @Option(names = "--partitions", defaultValue = "6", description = "request/output partitions (default: ${DEFAULT-VALUE})")
    int partitions;

    @Override
    public Integer call() throws Exception {
      if (adminPassword == null || adminPassword.isBlank()) {
        System.err.println("ops security init: no admin password: set KAFKA_ADMIN_PASSWORD or pass --admin-password");
        return 2;
      }
      if (!Files.isReadable(caFile)) {
        System.err.println("ops security init: cannot read the CA certificate " + caFile + " (certs.sh makes it)");
        return 2;
      }
      Map<String, String> passwords = new LinkedHashMap<>(SaslUsers.ensure(secrets, USERS));
      String registryUser = null;
      if (schemaRegistryPassword != null && !schemaRegistryPassword.isBlank()) {
        registryUser = SCHEMA_REGISTRY_USER;
        passwords.put(registryUser, schemaRegistryPassword);
      }
      Topics topics = Topics.defaults();
      String app = (String) WorkerConfig.CONFIG_DEF.defaultValues().get(WorkerConfig.APPLICATION_ID_CONFIG);
      try (Admin admin = Admin.create(client(ADMIN_USER, adminPassword))) {
        ClusterSetup.upsertScramUsers(admin, passwords);
        ClusterSetup.createTopics(admin, topics, partitions, registryUser != null);
        admin.createAcls(ClusterSetup.acls(topics, app,
            new ClusterSetup.Principals("worker", "ops", "loadgen", registryUser))).all().get();
      }
      Map<String, Object> worker = WorkerConfig.kafkaSettings(client("worker", passwords.get("worker")));
      worker.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      SaslUsers.writeProperties(secrets, "worker", worker, "kinfer worker settings for SCRAM user worker (ops worker FILE)");
      for (String user : List.of("ops", "loadgen")) {
        SaslUsers.writeProperties(secrets, user, client(user, passwords.get(user)),
            "Kafka client settings of SCRAM user " + user + " (--client-config)");
      }
      System.out.printf("SCRAM users %s, topics and ACLs in place; worker/ops/loadgen .properties in %s%n",
          passwords.keySet(), secrets);
      return 0;
    }

    private Map<String, Object> client(String user, String password) {
      Map<String, Object> config = new HashMap<>();
      config.put("bootstrap.servers", bootstrap);
      config.put("security.protocol", "SASL_SSL");
      config.put("sasl.mechanism", "SCRAM-SHA-512");
      config.put("sasl.jaas.config", SaslUsers.scramJaas(user, password));
      // A PEM trust store needs no password: every client (Schema Registry too) reads the CA as is.
      config.put("ssl.truststore.type", "PEM");
      config.put("ssl.truststore.location", caFile.toAbsolutePath().toString());
      return config;
    }
  }
}

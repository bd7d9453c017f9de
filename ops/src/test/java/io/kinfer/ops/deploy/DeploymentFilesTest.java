package io.kinfer.ops.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The compose stack, Prometheus config, alert rules and dashboard parse and fit together. */
public class DeploymentFilesTest {
  public static final Path ROOT = Path.of("..");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern METRIC = Pattern.compile("\\b((?:kinfer|kafka|jvm)_[a-zA-Z0-9_]+)");

  @Test
  void shouldDescribeTheWholeStackWithPinnedImages() throws Exception {
    JsonNode services = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile()).get("services");
    assertThat(iterable(services.fieldNames())).contains("kafka", "schema-registry", "topics-init", "keys-init",
        "models-init", "worker", "loadgen", "prometheus", "grafana");
    services.forEach(service -> {
      if (service.has("image")) {
        assertThat(service.get("image").asText()).matches("[a-z0-9./-]+:[A-Za-z0-9._-]+").doesNotEndWith(":latest");
      } else {
        assertThat(service.has("build")).isTrue();
      }
    });
    assertThat(services.at("/schema-registry/image").asText()).startsWith("confluentinc/cp-schema-registry:");
    assertThat(services.at("/kafka/environment/KAFKA_PROCESS_ROLES").asText()).isEqualTo("broker,controller");
    assertThat(services.at("/worker/deploy/replicas").asInt()).isEqualTo(2);
    assertThat(services.at("/worker/environment/KINFER_BOOTSTRAP_SERVERS").asText()).isEqualTo("kafka:9092");
    assertThat(services.at("/worker/environment/KINFER_SCHEMA_REGISTRY_URL").asText()).isEqualTo("http://schema-registry:8081");
    assertThat(services.at("/prometheus/ports/0").asText()).isEqualTo("9090:9090");
    assertThat(services.at("/grafana/ports/0").asText()).isEqualTo("3000:3000");
    assertThat(services.at("/schema-registry/ports/0").asText()).isEqualTo("8081:8081");
  }

  @Test
  void shouldRunTheGpuOverrideOnAnNvidiaDeviceWithTheGpuBuild() throws Exception {
    JsonNode worker = YAML.readTree(ROOT.resolve("docker-compose.gpu.yml").toFile()).at("/services/worker");
    assertThat(worker.at("/build/target").asText()).isEqualTo("runtime-gpu");
    assertThat(worker.at("/build/args/MAVEN_PROFILES").asText()).isEqualTo("gpu");
    assertThat(worker.at("/environment/KINFER_DEVICE").asText()).isEqualTo("cuda");
    JsonNode device = worker.at("/deploy/resources/reservations/devices/0");
    assertThat(device.get("driver").asText()).isEqualTo("nvidia");
    assertThat(device.get("capabilities").toString()).contains("gpu");
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    assertThat(dockerfile).contains("AS build", "AS runtime-gpu", "AS runtime", "USER 10001");
    assertThat(dockerfile).as("the build's guardrails config and the root marker go into the build stage")
        .contains("COPY config config", "COPY .mvn .mvn");
    assertThat(dockerfile).as("the image builds the ops distribution only, so it ships no embedded broker")
        .contains("-pl ops -am package", "COPY dev/pom.xml dev/pom.xml").doesNotContain("COPY dev dev");
    java.util.regex.Matcher module = java.util.regex.Pattern.compile("<module>([^<]+)</module>")
        .matcher(Files.readString(ROOT.resolve("pom.xml")));
    while (module.find()) {
      String m = module.group(1);
      assertThat(dockerfile).as("Maven reads every module of the reactor: %s must be in the build stage", m)
          .containsAnyOf("COPY " + m + " " + m + "\n", "COPY " + m + "/pom.xml " + m + "/pom.xml\n");
    }
    assertThat(dockerfile.lastIndexOf("FROM ")).as("CPU runtime is the default (last) stage")
        .isEqualTo(dockerfile.indexOf("FROM eclipse-temurin:17-jre AS runtime"));
  }

  @Test
  void shouldOverlaySaslSslOnEveryKafkaClientOfTheStack() throws Exception {
    JsonNode base = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile()).get("services");
    JsonNode secure = YAML.readTree(ROOT.resolve("docker-compose.secure.yml").toFile()).get("services");
    Set<String> known = new TreeSet<>(iterable(base.fieldNames()));
    known.addAll(iterable(secure.fieldNames()));
    secure.fields().forEachRemaining(e -> e.getValue().path("depends_on").fieldNames()
        .forEachRemaining(d -> assertThat(known).as("%s depends on %s", e.getKey(), d).contains(d)));
    // The broker: our start script, TLS material from certs-init, only the SASL_SSL host port.
    assertThat(secure.at("/kafka/entrypoint/1").asText()).isEqualTo("/secure/kafka-start.sh");
    assertThat(secure.at("/kafka/ports").toString()).contains("29093:29093").doesNotContain("29092");
    assertThat(secure.at("/kafka/healthcheck/test/1").asText()).contains("--command-config /tmp/admin.properties");
    assertThat(secure.at("/certs-init/entrypoint/1").asText()).isEqualTo("/secure/certs.sh");
    for (String script : List.of("certs.sh", "kafka-start.sh")) {
      assertThat(ROOT.resolve("ops/deploy/secure").resolve(script)).exists();
    }
    // Every Kafka client: security init's files, or SASL_SSL settings for Schema Registry.
    assertThat(secure.at("/security-init/command").toString()).contains("\"security\"", "\"init\"", "/certs/ca.crt");
    assertThat(secure.at("/worker/command/1").asText()).isEqualTo("/secrets/worker.properties");
    assertThat(secure.at("/loadgen/command").toString()).contains("--client-config", "/secrets/loadgen.properties");
    JsonNode registry = secure.at("/schema-registry/environment");
    assertThat(registry.get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS").asText()).startsWith("SASL_SSL://");
    assertThat(registry.get("SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG").asText())
        .contains("username=\"" + io.kinfer.ops.security.SecurityCommand.SCHEMA_REGISTRY_USER + "\"");
    assertThat(registry.get("SCHEMA_REGISTRY_KAFKASTORE_SSL_TRUSTSTORE_LOCATION").asText()).isEqualTo("/certs/ca.crt");
    for (String service : List.of("worker", "loadgen", "schema-registry", "topics-init")) {
      assertThat(secure.at("/" + service + "/depends_on/security-init/condition").asText())
          .as(service).isEqualTo("service_completed_successfully");
    }
    // Passwords come from the environment and are required, never defaulted in the file.
    String text = Files.readString(ROOT.resolve("docker-compose.secure.yml"));
    assertThat(text).contains("${KAFKA_ADMIN_PASSWORD:?", "${SR_KAFKA_PASSWORD:?").doesNotContain(":-");
  }

  @Test
  void shouldScrapeEveryWorkerAndLoadTheAlertRules() throws Exception {
    JsonNode prometheus = YAML.readTree(ROOT.resolve("ops/deploy/prometheus/prometheus.yml").toFile());
    assertThat(prometheus.at("/rule_files/0").asText()).endsWith("alerts.yml");
    JsonNode job = prometheus.at("/scrape_configs/0");
    assertThat(job.at("/dns_sd_configs/0/names/0").asText()).isEqualTo("worker");
    assertThat(job.at("/dns_sd_configs/0/port").asInt()).isEqualTo(8080);
    List<String> alerts = new ArrayList<>();
    YAML.readTree(ROOT.resolve("ops/deploy/prometheus/alerts.yml").toFile()).at("/groups/0/rules")
        .forEach(r -> alerts.add(r.get("alert").asText()));
    assertThat(alerts).containsExactlyInAnyOrder("InferenceErrorRateHigh", "InferenceLatencyP99OverTarget",
        "ConsumerLagGrowing", "ShadowDisagreement", "ModelPlanRejected");
  }

  @Test
  void shouldProvisionTheDashboardFromPrometheus() throws Exception {
    JsonNode dashboard = JSON.readTree(ROOT.resolve("ops/deploy/grafana/dashboards/kinfer.json").toFile());
    assertThat(dashboard.get("panels")).hasSizeGreaterThanOrEqualTo(10);
    assertThat(YAML.readTree(ROOT.resolve("ops/deploy/grafana/provisioning/datasources/prometheus.yml").toFile())
        .at("/datasources/0/url").asText()).isEqualTo("http://prometheus:9090");
    assertThat(referencedMetrics()).contains("kinfer_responses_total", "kinfer_e2e_latency_ms",
        "kafka_consumer_fetch_manager_metrics_records_lag_max", "kinfer_shadow_top1_agree_total");
  }

  /** Every metric family the dashboard and the alert rules query. */
  public static Set<String> referencedMetrics() throws Exception {
    Set<String> names = new TreeSet<>();
    JSON.readTree(ROOT.resolve("ops/deploy/grafana/dashboards/kinfer.json").toFile()).get("panels")
        .forEach(p -> p.get("targets").forEach(t -> collect(t.get("expr").asText(), names)));
    YAML.readTree(ROOT.resolve("ops/deploy/prometheus/alerts.yml").toFile()).at("/groups/0/rules")
        .forEach(r -> collect(r.get("expr").asText(), names));
    return names;
  }

  private static void collect(String expr, Set<String> names) {
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      names.add(m.group(1));
    }
  }

  private static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}

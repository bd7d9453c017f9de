package io.kinfer.ops.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.kinfer.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * deploy/k8s: every overlay renders ({@code kubectl kustomize}, when kubectl is on the PATH), every
 * document parses into the Kubernetes API's own types (fabric8 kubernetes-model) with unknown fields
 * and mistyped values refused, the two CRD kinds (ServiceMonitor, ScaledObject) pass an explicit
 * check of their structure, the names the StatefulSet refers to exist, and the worker accepts the
 * configuration the manifests give it (its own {@link WorkerConfig}, which refuses unknown keys).
 */
public class KubernetesManifestsTest {
  static final Path K8S = DeploymentFilesTest.ROOT.resolve("deploy/k8s");
  static final List<String> OVERLAYS = List.of("cpu", "gpu", "secure");
  static final List<String> COMPONENTS = List.of("keda", "servicemonitor");
  /** Created by the operator (README, "Run on Kubernetes"), never rendered: no secret lives in the repository. */
  static final Set<String> EXTERNAL_SECRETS = Set.of("kinfer-kafka-client", "kinfer-kafka-ca");
  /** Partitions of inference.requests: docker-compose's topics-init and `ops security init --partitions` (default). */
  static final int REQUEST_PARTITIONS = 6;
  /** Worker.close() gives Kafka Streams this long to commit and leave the group. */
  static final int WORKER_CLOSE_SECONDS = 30;

  /** The built-in kinds the manifests use, by apiVersion/kind: any other kind fails the test. */
  static final Map<String, Class<? extends HasMetadata>> TYPES = Map.of(
      "v1/ConfigMap", ConfigMap.class,
      "v1/Secret", Secret.class,
      "v1/Service", Service.class,
      "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
      "apps/v1/StatefulSet", StatefulSet.class,
      "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);
  static final String SERVICE_MONITOR = "monitoring.coreos.com/v1/ServiceMonitor";
  static final String SCALED_OBJECT = "keda.sh/v1alpha1/ScaledObject";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /**
   * fabric8's model classes keep unknown fields in an any-setter ({@code additionalProperties});
   * without it FAIL_ON_UNKNOWN_PROPERTIES applies, so {@code replica:} fails as the API server's
   * strict field validation would. No scalar coercion: {@code containerPort: "8080"} fails too;
   * a quantity may be a string or a number ({@code nvidia.com/gpu: 1}), as the API server takes it.
   */
  static final ObjectMapper STRICT = YAMLMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .addModule(new SimpleModule("quantity").addDeserializer(Quantity.class, new StdDeserializer<Quantity>(Quantity.class) {
        @Override
        public Quantity deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
          if (!p.currentToken().isScalarValue() || p.currentToken().isBoolean()) {
            return (Quantity) ctxt.handleUnexpectedToken(Quantity.class, p);
          }
          return new Quantity(p.getValueAsString());
        }
      }))
      .addModule(new SimpleModule("no-additional-properties").setDeserializerModifier(new BeanDeserializerModifier() {
        @Override
        public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
            BeanDeserializerBuilder builder) {
          if (bean.getBeanClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            builder.setAnySetter(null);
          }
          return builder;
        }
      }))
      .build();

  // ---------------------------------------------------------------------------------------------
  // The tests

  @ParameterizedTest(name = "overlay {0}")
  @ValueSource(strings = {"cpu", "gpu", "secure"})
  void shouldRenderEachOverlayIntoValidObjectsThatFitTogether(String overlay) throws Exception {
    Path kubectl = kubectl();
    assumeTrue(kubectl != null, "kubectl is not on the PATH: rendering skipped (the raw files are still parsed)");
    String kustomize = kustomizeVersion(kubectl);
    // Components and the labels field need kustomize 4+; Debian's kubernetes-client (1.20) embeds v2.0.3.
    assumeTrue(kustomize.matches("v([5-9]|[1-9][0-9])\\..*"),
        "kubectl embeds kustomize " + kustomize + ", older than v5: rendering skipped (the raw files are still parsed)");
    Rendered alone = Rendered.of(kustomize(kubectl, K8S.resolve("overlays").resolve(overlay)));
    assertThat(alone.kinds()).containsExactlyInAnyOrder("ConfigMap", "Service", "StatefulSet", "PodDisruptionBudget");
    alone.checkReferences();
    Rendered all = Rendered.of(kustomize(kubectl, withComponents(overlay)));
    assertThat(all.kinds()).contains("ScaledObject", "ServiceMonitor");
    all.checkReferences();

    Map<String, Object> config = all.workerConfig().originals();
    StatefulSet sts = all.one(StatefulSet.class);
    Container worker = worker(sts);
    switch (overlay) {
      case "gpu" -> {
        assertThat(worker.getImage()).startsWith("kinfer-gpu:");
        assertThat(config).containsEntry("device", "cuda");
        assertThat(worker.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(sts.getSpec().getTemplate().getSpec().getTolerations())
            .anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
      }
      case "secure" -> {
        assertThat(config).containsEntry("kafka.security.protocol", "SASL_SSL")
            .containsEntry("kafka.ssl.truststore.type", "PEM").containsKey("kafka.sasl.jaas.config");
        assertThat(mountedFrom(sts, (String) config.get("kafka.ssl.truststore.location")))
            .as("the trust store is mounted from the CA Secret").isEqualTo("secret:kinfer-kafka-ca");
      }
      default -> {
        assertThat(worker.getImage()).startsWith("kinfer:");
        assertThat(config).doesNotContainKeys("device", "kafka.security.protocol");
      }
    }
  }

  @Test
  void shouldParseEveryRawManifestAgainstTheApiTypes() throws Exception {
    // Without kubectl this is the whole check; with it, it also covers the patches as written.
    List<Path> files;
    try (Stream<Path> walk = Files.walk(K8S)) {
      files = walk.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThan(10);
    Set<String> kinds = new HashSet<>();
    for (Path file : files) {
      for (JsonNode doc : documents(Files.readString(file))) {
        String kind = doc.path("kind").asText();
        if (file.getFileName().toString().equals("kustomization.yaml")) {
          checkKustomization(file, doc);
          continue;
        }
        kinds.add(kind);
        try {
          parse(doc);
        } catch (Exception e) {
          throw new AssertionError(file + ": " + e.getMessage(), e);
        }
      }
    }
    assertThat(kinds).contains("Service", "StatefulSet", "PodDisruptionBudget", "ScaledObject", "ServiceMonitor");
  }

  @Test
  void shouldGiveTheWorkerOnlySettingsItKnows() throws Exception {
    Properties file = new Properties();
    file.load(new StringReader(Files.readString(K8S.resolve("base/worker.properties"))));
    file.stringPropertyNames().forEach(key -> assertThat(WorkerConfig.isKnownSetting(key))
        .as("worker.properties key %s is a worker setting", key).isTrue());
    // The variables of the StatefulSet and of every overlay's patch, by the worker's own mapping.
    for (Path yaml : List.of(K8S.resolve("base/statefulset.yaml"), K8S.resolve("overlays/gpu/statefulset-gpu.yaml"),
        K8S.resolve("overlays/secure/statefulset-sasl.yaml"))) {
      Map<String, String> env = env(worker(STRICT.treeToValue(documents(Files.readString(yaml)).get(0), StatefulSet.class)));
      assertThat(env).isNotEmpty();
      WorkerConfig.fromEnv(env).keySet().forEach(key -> assertThat(WorkerConfig.isKnownSetting(key))
          .as("%s sets %s, a worker setting", yaml.getFileName(), key).isTrue());
    }
    WorkerConfig config = WorkerConfig.load(K8S.resolve("base/worker.properties"), Map.of());
    assertThat(config.getInt(WorkerConfig.HTTP_PORT_CONFIG)).isEqualTo(8080);
  }

  @Test
  void shouldRefuseATypoInAManifest() throws Exception {
    JsonNode sts = documents(Files.readString(K8S.resolve("base/statefulset.yaml"))).get(0);
    parse(sts);
    // A misspelt field: replica instead of replicas.
    ObjectNode misspelt = sts.deepCopy();
    ObjectNode spec = (ObjectNode) misspelt.get("spec");
    spec.set("replica", spec.remove("replicas"));
    assertThatThrownBy(() -> parse(misspelt)).hasMessageContaining("Unrecognized field \"replica\"");
    // A misspelt field deep in the pod template.
    ObjectNode probe = sts.deepCopy();
    ((ObjectNode) probe.at("/spec/template/spec/containers/0/readinessProbe")).put("periodSecond", 5);
    assertThatThrownBy(() -> parse(probe)).hasMessageContaining("\"periodSecond\"");
    // A value of the wrong type: containerPort "x", and a quoted number the API server refuses as well.
    for (String port : List.of("x", "8080")) {
      ObjectNode mistyped = sts.deepCopy();
      ((ObjectNode) mistyped.at("/spec/template/spec/containers/0/ports/0")).set("containerPort", TextNode.valueOf(port));
      assertThatThrownBy(() -> parse(mistyped)).as("containerPort \"%s\"", port).hasMessageContaining("containerPort");
    }
    // A kind or apiVersion nobody checks.
    ObjectNode wrongVersion = sts.deepCopy();
    wrongVersion.put("apiVersion", "apps/v1beta1");
    assertThatThrownBy(() -> parse(wrongVersion)).hasMessageContaining("apps/v1beta1/StatefulSet");
    // The CRD kinds: a misspelt trigger setting and a missing required field.
    JsonNode scaled = documents(Files.readString(K8S.resolve("components/keda/scaledobject.yaml"))).get(0);
    parse(scaled);
    ObjectNode lag = scaled.deepCopy();
    ObjectNode metadata = (ObjectNode) lag.at("/spec/triggers/0/metadata");
    metadata.set("lagTreshold", metadata.remove("lagThreshold"));
    assertThatThrownBy(() -> parse(lag)).hasMessageContaining("lagTreshold");
    ObjectNode noTarget = scaled.deepCopy();
    ((ObjectNode) noTarget.get("spec")).remove("scaleTargetRef");
    assertThatThrownBy(() -> parse(noTarget)).hasMessageContaining("scaleTargetRef");
    JsonNode monitor = documents(Files.readString(K8S.resolve("components/servicemonitor/servicemonitor.yaml"))).get(0);
    ObjectNode endpoint = monitor.deepCopy();
    ((ObjectNode) endpoint.at("/spec/endpoints/0")).put("intervall", "15s");
    assertThatThrownBy(() -> parse(endpoint)).hasMessageContaining("intervall");
    // And the worker's settings: an unknown key in worker.properties.
    assertThat(WorkerConfig.isKnownSetting("max.batch.sise")).isFalse();
    assertThat(WorkerConfig.isKnownSetting("kafka.main.consumer.group.instance.id")).isTrue();
  }

  @Test
  void shouldRefuseBrokenReferencesAndUnknownSettings() throws Exception {
    // The base as kustomize would render it (without kubectl too): its files and its generated ConfigMap.
    String properties = Files.readString(K8S.resolve("base/worker.properties"));
    Rendered.of(base(properties, sts -> { })).checkReferences();
    // A volume naming a ConfigMap that is not there.
    assertThatThrownBy(() -> Rendered.of(base(properties, sts -> ((ObjectNode) sts.at("/spec/template/spec/volumes/0/configMap"))
        .put("name", "kinfer-worker-confg"))).checkReferences()).hasMessageContaining("kinfer-worker-confg");
    // A probe on another port than the container's.
    assertThatThrownBy(() -> Rendered.of(base(properties, sts -> ((ObjectNode) sts.at(
        "/spec/template/spec/containers/0/readinessProbe/httpGet")).put("port", 8081))).checkReferences())
        .hasMessageContaining("probe port of /ready");
    // A Secret nobody creates.
    assertThatThrownBy(() -> Rendered.of(base(properties, sts -> {
      ObjectNode volume = (ObjectNode) sts.at("/spec/template/spec/volumes/1");
      volume.remove("configMap");
      volume.putObject("secret").put("secretName", "kinfer-kafka-sasl");
    })).checkReferences()).hasMessageContaining("kinfer-kafka-sasl");
    // A misspelt worker setting in the ConfigMap, and one in a container variable.
    assertThatThrownBy(() -> Rendered.of(base(properties + "max.batch.sise=32\n", sts -> { })).checkReferences())
        .hasMessageContaining("max.batch.sise");
    assertThatThrownBy(() -> Rendered.of(base(properties, sts -> ((com.fasterxml.jackson.databind.node.ArrayNode) sts.at(
        "/spec/template/spec/containers/0/env")).addObject().put("name", "KINFER_MAX_WAIT_M").put("value", "5")))
        .checkReferences()).hasMessageContaining("max.wait.m");
  }

  /** The base's documents with worker.properties as its generated ConfigMap, the StatefulSet changed by {@code edit}. */
  static String base(String properties, java.util.function.Consumer<JsonNode> edit) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    for (String file : List.of("statefulset.yaml", "service.yaml", "pdb.yaml")) {
      JsonNode doc = documents(Files.readString(K8S.resolve("base").resolve(file))).get(0);
      if (doc.path("kind").asText().equals("StatefulSet")) {
        edit.accept(doc);
      }
      docs.add(doc);
    }
    ObjectNode configMap = (ObjectNode) YAML.readTree("{apiVersion: v1, kind: ConfigMap, metadata: {name: kinfer-worker-config}}");
    configMap.putObject("data").put("worker.properties", properties);
    docs.add(configMap);
    StringBuilder yaml = new StringBuilder();
    for (JsonNode doc : docs) {
      yaml.append(YAML.writeValueAsString(doc));
    }
    return yaml.toString();
  }

  @Test
  void shouldCapAutoscalingAtTheRequestTopicsPartitions() throws Exception {
    JsonNode spec = documents(Files.readString(K8S.resolve("components/keda/scaledobject.yaml"))).get(0).get("spec");
    assertThat(spec.get("maxReplicaCount").asInt()).isEqualTo(REQUEST_PARTITIONS);
    assertThat(Files.readString(DeploymentFilesTest.ROOT.resolve("docker-compose.yml")))
        .contains("--topic inference.requests --partitions " + REQUEST_PARTITIONS + " ");
    assertThat(Files.readString(DeploymentFilesTest.ROOT.resolve(
        "ops/src/main/java/io/kinfer/ops/security/SecurityCommand.java")))
        .contains("names = \"--partitions\", defaultValue = \"" + REQUEST_PARTITIONS + "\"");
  }

  @Test
  void shouldDocumentHowToRunOnKubernetes() throws Exception {
    String readme = Files.readString(DeploymentFilesTest.ROOT.resolve("README.md"));
    assertThat(readme).contains("## Run on Kubernetes", "kubectl apply -k deploy/k8s/overlays/cpu",
        "deploy/k8s/overlays/gpu", "deploy/k8s/overlays/secure", "components/keda", "components/servicemonitor");
    EXTERNAL_SECRETS.forEach(secret -> assertThat(readme).as("README says how to create %s", secret)
        .contains("kubectl create secret generic " + secret));
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing

  /** Checks one document: a built-in kind into its API type (strict), a CRD kind by its explicit check. */
  static Object parse(JsonNode doc) throws IOException {
    String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    if (type.equals(SERVICE_MONITOR)) {
      checkServiceMonitor(doc);
      return doc;
    }
    if (type.equals(SCALED_OBJECT)) {
      checkScaledObject(doc);
      return doc;
    }
    Class<? extends HasMetadata> cls = TYPES.get(type);
    if (cls == null) {
      throw new AssertionError("No check for " + type + " (add it to TYPES or to the CRD checks)");
    }
    HasMetadata parsed = STRICT.treeToValue(doc, cls);
    assertThat(parsed.getMetadata()).as("%s has metadata", type).isNotNull();
    assertThat(parsed.getMetadata().getName()).as("%s has a name", type).isNotBlank();
    return parsed;
  }

  static List<JsonNode> documents(String yaml) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (var parser = YAML.getFactory().createParser(yaml)) {
      var it = YAML.readValues(parser, JsonNode.class);
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
          out.add(doc);
        }
      }
    }
    return out;
  }

  /** A kustomization or component: its kind, and every local path it names exists. */
  static void checkKustomization(Path file, JsonNode doc) {
    String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    assertThat(type).as(file.toString()).isIn("kustomize.config.k8s.io/v1beta1/Kustomization",
        "kustomize.config.k8s.io/v1alpha1/Component");
    Set<String> allowed = Set.of("apiVersion", "kind", "resources", "components", "patches", "images", "labels",
        "configMapGenerator", "namespace");
    doc.fieldNames().forEachRemaining(f -> assertThat(allowed).as("%s: field %s", file, f).contains(f));
    for (String list : List.of("resources", "components")) {
      doc.path(list).forEach(p -> assertThat(file.resolveSibling(p.asText())).as("%s: %s", file, p).exists());
    }
    doc.path("patches").forEach(p -> {
      if (p.has("path")) {
        assertThat(file.resolveSibling(p.path("path").asText())).as("%s: %s", file, p).exists();
      } else {
        assertThat(p.path("patch").asText()).as("%s: a patch file or an inline patch", file).isNotBlank();
      }
    });
    doc.path("configMapGenerator").forEach(g -> g.path("files").forEach(
        f -> assertThat(file.resolveSibling(f.asText())).as("%s: %s", file, f).exists()));
  }

  // The CRD kinds: not in the core model, so an explicit check of the fields this project uses,
  // the required ones and the spelling of every field (the CRDs' own schemas are not in the build).

  static void checkServiceMonitor(JsonNode doc) {
    checkObject(doc, "ServiceMonitor", Set.of("apiVersion", "kind", "metadata", "spec"), Set.of("metadata", "spec"));
    JsonNode spec = doc.get("spec");
    checkObject(spec, "ServiceMonitor spec", Set.of("selector", "endpoints", "namespaceSelector", "jobLabel",
        "targetLabels", "podTargetLabels", "sampleLimit"), Set.of("selector", "endpoints"));
    checkObject(spec.get("selector"), "ServiceMonitor selector", Set.of("matchLabels", "matchExpressions"), Set.of());
    assertThat(spec.get("endpoints").isArray() && !spec.get("endpoints").isEmpty()).as("ServiceMonitor endpoints").isTrue();
    spec.get("endpoints").forEach(e -> {
      checkObject(e, "ServiceMonitor endpoint", Set.of("port", "targetPort", "path", "scheme", "interval",
          "scrapeTimeout", "honorLabels", "relabelings", "metricRelabelings", "tlsConfig"), Set.of());
      assertThat(e.has("port") || e.has("targetPort")).as("a ServiceMonitor endpoint names its port").isTrue();
    });
  }

  static void checkScaledObject(JsonNode doc) {
    checkObject(doc, "ScaledObject", Set.of("apiVersion", "kind", "metadata", "spec"), Set.of("metadata", "spec"));
    JsonNode spec = doc.get("spec");
    checkObject(spec, "ScaledObject spec", Set.of("scaleTargetRef", "pollingInterval", "cooldownPeriod",
        "initialCooldownPeriod", "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced",
        "triggers"), Set.of("scaleTargetRef", "triggers"));
    checkObject(spec.get("scaleTargetRef"), "scaleTargetRef", Set.of("apiVersion", "kind", "name",
        "envSourceContainerName"), Set.of("name"));
    for (String count : List.of("minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod")) {
      assertThat(!spec.has(count) || spec.get(count).isInt()).as("ScaledObject %s is an integer", count).isTrue();
    }
    assertThat(spec.get("triggers").isArray() && !spec.get("triggers").isEmpty()).as("ScaledObject triggers").isTrue();
    spec.get("triggers").forEach(t -> {
      checkObject(t, "ScaledObject trigger", Set.of("type", "name", "metadata", "authenticationRef", "metricType",
          "useCachedMetrics"), Set.of("type", "metadata"));
      // KEDA's trigger metadata is map[string]string: a bare number is refused by the API server.
      t.get("metadata").fields().forEachRemaining(f -> assertThat(f.getValue().isTextual())
          .as("trigger metadata %s is a string", f.getKey()).isTrue());
      if (t.get("type").asText().equals("kafka")) {
        // The kafka scaler's parameters (KEDA docs, "Apache Kafka" scaler).
        checkObject(t.get("metadata"), "kafka trigger metadata", Set.of("bootstrapServers", "consumerGroup", "topic",
            "lagThreshold", "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
            "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
            "ensureEvenDistributionOfPartitions", "partitionLimitation", "version", "sasl", "tls"),
            Set.of("bootstrapServers", "consumerGroup", "topic", "lagThreshold"));
      }
    });
  }

  /** Every field of {@code node} is allowed and every required one is there. */
  static void checkObject(JsonNode node, String what, Set<String> allowed, Set<String> required) {
    if (node == null || !node.isObject()) {
      throw new AssertionError(what + " must be an object");
    }
    node.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        throw new AssertionError(what + ": unknown field \"" + f + "\" (allowed: " + allowed + ")");
      }
    });
    required.forEach(f -> {
      if (!node.has(f)) {
        throw new AssertionError(what + ": required field \"" + f + "\" is missing");
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering

  static Path kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /** The kustomize version kubectl embeds ("v5.5.0"), or "unknown". */
  static String kustomizeVersion(Path kubectl) throws Exception {
    Process process = new ProcessBuilder(kubectl.toString(), "version", "--client", "-o", "json")
        .redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      return "unknown";
    }
    try {
      return new ObjectMapper().readTree(out).path("kustomizeVersion").asText("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  static String kustomize(Path kubectl, Path dir) throws Exception {
    Path out = Files.createTempFile("kustomize", ".yaml");
    Path err = Files.createTempFile("kustomize", ".err");
    try {
      Process process = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("kubectl kustomize %s finished", dir).isTrue();
      assertThat(process.exitValue()).as("kubectl kustomize %s: %s", dir, Files.readString(err)).isZero();
      return Files.readString(out);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** A kustomization of the overlay plus every component (kustomize takes only relative paths). */
  static Path withComponents(String overlay) throws IOException {
    Path dir = Path.of("target", "k8s-render", overlay).toAbsolutePath();
    Files.createDirectories(dir);
    Path k8s = K8S.toAbsolutePath().normalize();
    StringBuilder yaml = new StringBuilder("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
        .append("resources:\n  - ").append(dir.relativize(k8s.resolve("overlays").resolve(overlay))).append('\n')
        .append("components:\n");
    COMPONENTS.forEach(c -> yaml.append("  - ").append(dir.relativize(k8s.resolve("components").resolve(c))).append('\n'));
    Files.writeString(dir.resolve("kustomization.yaml"), yaml.toString(), StandardCharsets.UTF_8);
    return dir;
  }

  /** One rendered overlay: its documents, parsed. */
  record Rendered(List<JsonNode> docs, List<Object> parsed) {
    static Rendered of(String yaml) throws IOException {
      List<JsonNode> docs = documents(yaml);
      List<Object> parsed = new ArrayList<>();
      for (JsonNode doc : docs) {
        parsed.add(parse(doc));
      }
      return new Rendered(docs, parsed);
    }

    List<String> kinds() {
      return docs.stream().map(d -> d.path("kind").asText()).toList();
    }

    <T> List<T> all(Class<T> type) {
      return parsed.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T> T one(Class<T> type) {
      assertThat(all(type)).as("one %s", type.getSimpleName()).hasSize(1);
      return all(type).get(0);
    }

    List<JsonNode> custom(String type) {
      return docs.stream().filter(d -> type.equals(d.path("apiVersion").asText() + "/" + d.path("kind").asText())).toList();
    }

    Set<String> names(Class<? extends HasMetadata> type) {
      Set<String> out = new HashSet<>();
      all(type).forEach(o -> out.add(((HasMetadata) o).getMetadata().getName()));
      return out;
    }

    /** The worker's configuration as a pod would load it: the ConfigMap's file plus the container's variables. */
    WorkerConfig workerConfig() throws IOException {
      StatefulSet sts = one(StatefulSet.class);
      Container worker = worker(sts);
      assertThat(worker.getArgs()).hasSize(2).first().isEqualTo("worker");
      String configFile = worker.getArgs().get(1);
      String configMap = mountedFrom(sts, configFile);
      assertThat(configMap).as("%s is mounted from a ConfigMap", configFile).startsWith("configMap:");
      String name = configMap.substring("configMap:".length());
      ConfigMap map = all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
          .orElseThrow();
      String key = Path.of(configFile).getFileName().toString();
      assertThat(map.getData()).containsKey(key);
      Path file = Files.createTempFile("worker", ".properties");
      try {
        Files.writeString(file, map.getData().get(key));
        Properties props = new Properties();
        props.load(new StringReader(map.getData().get(key)));
        props.stringPropertyNames().forEach(k -> assertThat(WorkerConfig.isKnownSetting(k))
            .as("ConfigMap %s: %s is a worker setting", name, k).isTrue());
        Map<String, String> env = env(worker);
        WorkerConfig.fromEnv(env).keySet().forEach(k -> assertThat(WorkerConfig.isKnownSetting(k))
            .as("container variable for %s is a worker setting", k).isTrue());
        // Refuses unknown keys and invalid values, as the worker does at start.
        return WorkerConfig.load(file, env);
      } finally {
        Files.delete(file);
      }
    }

    /** Every name the StatefulSet refers to exists, ports and selectors agree, sizing is in place. */
    void checkReferences() throws IOException {
      Set<String> configMaps = names(ConfigMap.class);
      Set<String> secrets = new HashSet<>(names(Secret.class));
      secrets.addAll(EXTERNAL_SECRETS);
      Set<String> claims = names(PersistentVolumeClaim.class);
      StatefulSet sts = one(StatefulSet.class);
      PodSpec pod = sts.getSpec().getTemplate().getSpec();
      Map<String, String> podLabels = sts.getSpec().getTemplate().getMetadata().getLabels();
      assertThat(podLabels).containsAllEntriesOf(sts.getSpec().getSelector().getMatchLabels());

      Set<String> volumes = new HashSet<>();
      for (Volume v : pod.getVolumes()) {
        volumes.add(v.getName());
        if (v.getConfigMap() != null && !Boolean.TRUE.equals(v.getConfigMap().getOptional())) {
          assertThat(configMaps).as("volume %s: ConfigMap", v.getName()).contains(v.getConfigMap().getName());
        }
        if (v.getSecret() != null && !Boolean.TRUE.equals(v.getSecret().getOptional())) {
          assertThat(secrets).as("volume %s: Secret", v.getName()).contains(v.getSecret().getSecretName());
        }
        if (v.getPersistentVolumeClaim() != null) {
          assertThat(claims).as("volume %s: PVC", v.getName()).contains(v.getPersistentVolumeClaim().getClaimName());
        }
      }
      sts.getSpec().getVolumeClaimTemplates().forEach(t -> volumes.add(t.getMetadata().getName()));
      List<Container> containers = new ArrayList<>(pod.getContainers());
      containers.addAll(pod.getInitContainers());
      for (Container c : containers) {
        c.getVolumeMounts().forEach(m -> assertThat(volumes).as("%s mounts %s", c.getName(), m.getName())
            .contains(m.getName()));
        for (EnvVar e : c.getEnv()) {
          if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
            assertThat(secrets).as("%s: Secret", e.getName()).contains(e.getValueFrom().getSecretKeyRef().getName());
          }
          if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
            assertThat(configMaps).as("%s: ConfigMap", e.getName())
                .contains(e.getValueFrom().getConfigMapKeyRef().getName());
          }
        }
      }

      // Probes on the worker's HTTP port, which is the port the worker is configured to serve on.
      Container worker = worker(sts);
      WorkerConfig config = workerConfig();
      int httpPort = config.getInt(WorkerConfig.HTTP_PORT_CONFIG);
      assertThat(worker.getPorts()).extracting(ContainerPort::getContainerPort).contains(httpPort);
      Map<String, Probe> probes = new LinkedHashMap<>();
      probes.put("startup", worker.getStartupProbe());
      probes.put("liveness", worker.getLivenessProbe());
      probes.put("readiness", worker.getReadinessProbe());
      probes.forEach((kind, probe) -> {
        assertThat(probe).as("%s probe", kind).isNotNull();
        String path = probe.getHttpGet().getPath();
        assertThat(path).as("%s probe", kind).isEqualTo(kind.equals("readiness") ? "/ready" : "/health");
        assertThat(portNumber(worker, probe.getHttpGet().getPort())).as("probe port of %s", path).isEqualTo(httpPort);
      });

      assertThat(sts.getSpec().getTemplate().getMetadata().getAnnotations())
          .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", String.valueOf(httpPort))
          .containsEntry("prometheus.io/path", "/metrics");

      // Paths the configuration names are on volumes (models, keys, state, trust store).
      for (String key : List.of(WorkerConfig.MODEL_REPOSITORY_CONFIG, WorkerConfig.CONTROL_TRUSTED_KEYS_DIR_CONFIG,
          WorkerConfig.STATE_DIR_CONFIG, "kafka.ssl.truststore.location")) {
        Object path = config.originals().get(key);
        if (path != null) {
          assertThat(mountedFrom(sts, path.toString())).as("%s=%s is on a volume", key, path).isNotNull();
        }
      }
      assertThat(mountedFrom(sts, config.getString(WorkerConfig.STATE_DIR_CONFIG)))
          .as("state.dir on the pod's own claim").isEqualTo("claim:state");
      assertThat(mountedFrom(sts, config.getString(WorkerConfig.MODEL_REPOSITORY_CONFIG))).isEqualTo("emptyDir:models");
      assertThat(pod.getInitContainers()).anySatisfy(init -> assertThat(init.getVolumeMounts())
          .anySatisfy(m -> assertThat(m.getName()).isEqualTo("models")));
      // worker.id from the pod name; dynamic membership, measured faster to recover (docs/BENCHMARKS.md).
      assertThat(fieldRef(worker, "KINFER_WORKER_ID")).isEqualTo("metadata.name");
      assertThat(worker.getEnv()).noneSatisfy(env -> assertThat(env.getName()).contains("GROUP_INSTANCE_ID"));

      assertThat(pod.getTerminationGracePeriodSeconds()).as("grace covers Worker.close()")
          .isGreaterThan((long) WORKER_CLOSE_SECONDS);
      assertThat(worker.getResources().getRequests()).containsKeys("cpu", "memory");
      assertThat(worker.getResources().getLimits()).containsKey("memory");
      assertThat(config.getInt(WorkerConfig.INTRA_OP_THREADS_CONFIG)).as("ONNX Runtime threads = CPU request")
          .isEqualTo((int) Quantity.getAmountInBytes(worker.getResources().getRequests().get("cpu")).doubleValue());

      // The governing headless Service and the PDB select these pods.
      Service service = all(Service.class).stream().filter(s -> s.getMetadata().getName().equals(sts.getSpec().getServiceName()))
          .findFirst().orElseThrow(() -> new AssertionError("no Service " + sts.getSpec().getServiceName()));
      assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
      assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
      for (ServicePort port : service.getSpec().getPorts()) {
        assertThat(portNumber(worker, port.getTargetPort())).as("Service port %s", port.getName()).isEqualTo(httpPort);
      }
      PodDisruptionBudget pdb = one(PodDisruptionBudget.class);
      assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
      assertThat(pdb.getSpec().getMaxUnavailable()).isEqualTo(new IntOrString(1));

      // The optional components point at these objects.
      for (JsonNode monitor : custom(SERVICE_MONITOR)) {
        monitor.at("/spec/selector/matchLabels").fields().forEachRemaining(
            l -> assertThat(service.getMetadata().getLabels()).containsEntry(l.getKey(), l.getValue().asText()));
        monitor.at("/spec/endpoints").forEach(e -> assertThat(service.getSpec().getPorts())
            .extracting(ServicePort::getName).contains(e.path("port").asText()));
      }
      assertThat(sts.getSpec().getReplicas()).as("replicas are KEDA's when a ScaledObject is rendered, else set")
          .isEqualTo(custom(SCALED_OBJECT).isEmpty() ? Integer.valueOf(2) : null);
      for (JsonNode scaled : custom(SCALED_OBJECT)) {
        JsonNode spec = scaled.get("spec");
        assertThat(spec.at("/scaleTargetRef/kind").asText()).isEqualTo("StatefulSet");
        assertThat(spec.at("/scaleTargetRef/name").asText()).isEqualTo(sts.getMetadata().getName());
        assertThat(spec.get("maxReplicaCount").asInt()).as("capped at the request topic's partitions")
            .isLessThanOrEqualTo(REQUEST_PARTITIONS);
        JsonNode kafka = spec.at("/triggers/0/metadata");
        assertThat(spec.at("/triggers/0/type").asText()).isEqualTo("kafka");
        assertThat(kafka.get("consumerGroup").asText()).as("the Streams application id is the group")
            .isEqualTo(config.getString(WorkerConfig.APPLICATION_ID_CONFIG));
        assertThat(kafka.get("topic").asText()).isEqualTo(config.getString(WorkerConfig.REQUESTS_TOPIC_CONFIG));
        assertThat(kafka.get("bootstrapServers").asText()).isEqualTo(config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers on the pod template

  static Container worker(StatefulSet sts) {
    return sts.getSpec().getTemplate().getSpec().getContainers().stream().filter(c -> c.getName().equals("worker"))
        .findFirst().orElseThrow(() -> new AssertionError("no container 'worker'"));
  }

  /** The container's variables as the worker sees them; a value from a Secret or the downward API as a stand-in. */
  static Map<String, String> env(Container c) {
    Map<String, String> out = new HashMap<>();
    for (EnvVar e : c.getEnv()) {
      out.put(e.getName(), e.getValue() != null ? e.getValue() : "kinfer-worker-0");
    }
    return out;
  }

  static String fieldRef(Container c, String variable) {
    return c.getEnv().stream().filter(e -> e.getName().equals(variable)).findFirst()
        .map(e -> e.getValueFrom() == null || e.getValueFrom().getFieldRef() == null ? null
            : e.getValueFrom().getFieldRef().getFieldPath())
        .orElse(null);
  }

  static int portNumber(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream().filter(p -> Objects.equals(p.getName(), port.getStrVal())).findFirst()
        .map(ContainerPort::getContainerPort).orElseThrow(() -> new AssertionError("no container port " + port.getStrVal()));
  }

  /**
   * Where {@code path} in the worker container comes from: "configMap:NAME", "secret:NAME",
   * "emptyDir:VOLUME", "claim:TEMPLATE", or null when no mount holds it (the longest mount wins).
   */
  static String mountedFrom(StatefulSet sts, String path) {
    Optional<VolumeMount> mount = worker(sts).getVolumeMounts().stream()
        .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"))
        .max(java.util.Comparator.comparingInt(m -> m.getMountPath().length()));
    if (mount.isEmpty()) {
      return null;
    }
    String name = mount.get().getName();
    for (Volume v : sts.getSpec().getTemplate().getSpec().getVolumes()) {
      if (v.getName().equals(name)) {
        if (v.getConfigMap() != null) {
          return "configMap:" + v.getConfigMap().getName();
        }
        if (v.getSecret() != null) {
          return "secret:" + v.getSecret().getSecretName();
        }
        if (v.getEmptyDir() != null) {
          return "emptyDir:" + name;
        }
        return "volume:" + name;
      }
    }
    return sts.getSpec().getVolumeClaimTemplates().stream().anyMatch(t -> t.getMetadata().getName().equals(name))
        ? "claim:" + name : null;
  }
}

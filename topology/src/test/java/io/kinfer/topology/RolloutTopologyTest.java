package io.kinfer.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.ShadowComparison;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.control.CommandVerifier;
import io.kinfer.topology.control.ControlPlane;
import io.kinfer.topology.control.ControlSigning;
import io.kinfer.topology.route.PlanRoutingTable;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Rollout through the control topic, on the real topology with TopologyTestDriver. */
class RolloutTopologyTest {
  private static final ModelVersion V1 = new ModelVersion("mlp", "1");
  private static final ModelVersion V2 = new ModelVersion("mlp", "2");
  private static final KeyPair OPS_KEY = ControlSigning.generate();
  private static final KeyPair OTHER_KEY = ControlSigning.generate();

  private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
  private final AvroWireSerializer<InferenceRequest> requestSerializer =
      new AvroWireSerializer<>(registry, InferenceRequest.getClassSchema(), false);
  private final AvroWireSerializer<ControlCommand> controlSerializer =
      new AvroWireSerializer<>(registry, ControlCommand.getClassSchema(), false);
  private final SumEngine engine = new SumEngine(V1, V2);
  private final RecordingEvents events = new RecordingEvents();
  private final PlanRoutingTable routes = new PlanRoutingTable(engine::loaded, Map.of("mlp", "1"));
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> requests;
  private TestInputTopic<String, byte[]> control;
  private TestOutputTopic<String, InferenceResponse> predictions;
  private TestOutputTopic<String, InferenceResponse> shadow;
  private TestOutputTopic<String, ShadowComparison> comparisons;
  private int sent;

  @BeforeEach
  void start() {
    TopologyConfig config = new TopologyConfig(Topics.defaults(), 1000, Duration.ofMillis(10), 100_000, "w1");
    ControlPlane plane = new ControlPlane(new CommandVerifier(Map.of("ops", OPS_KEY.getPublic())),
        SumEngine.preparer(engine.loaded()), events);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "kinfer-rollout-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    driver = new TopologyTestDriver(InferenceTopology.build(config, engine, routes, plane, registry,
        new PipelineMetrics(new MetricRegistry())), props, Instant.parse("2026-01-01T00:00:00Z"));
    requests = driver.createInputTopic(Topics.DEFAULT_REQUESTS, new StringSerializer(), new ByteArraySerializer());
    control = driver.createInputTopic(Topics.DEFAULT_CONTROL, new StringSerializer(), new ByteArraySerializer());
    predictions = driver.createOutputTopic(Topics.DEFAULT_PREDICTIONS, new StringDeserializer(),
        new AvroWireDeserializer<>(registry, InferenceResponse.getClassSchema()));
    shadow = driver.createOutputTopic(Topics.DEFAULT_SHADOW, new StringDeserializer(),
        new AvroWireDeserializer<>(registry, InferenceResponse.getClassSchema()));
    comparisons = driver.createOutputTopic(Topics.DEFAULT_COMPARISONS, new StringDeserializer(),
        new AvroWireDeserializer<>(registry, ShadowComparison.getClassSchema()));
  }

  @AfterEach
  void close() {
    driver.close();
  }

  static ControlCommand plan(long generation, Route... routes) {
    return ControlCommand.newBuilder().setModel("mlp").setGeneration(generation).setRoutes(List.of(routes))
        .setSalt("s1").setIssuer("test").setIssuedAt(Instant.EPOCH).build();
  }

  static Route route(String version, Role role, double weight) {
    return new Route(version, role, weight);
  }

  private void publish(ControlCommand command) {
    control.pipeInput(command.getModel(), controlSerializer.serialize(Topics.DEFAULT_CONTROL, command));
  }

  private void publishSigned(ControlCommand command) {
    publish(ControlSigning.sign(command, "ops", OPS_KEY.getPrivate()));
  }

  private void send(String key, float value) {
    InferenceRequest request = InferenceRequest.newBuilder().setId("r" + sent++).setModel("mlp")
        .setInputs(List.of(SumEngine.fp32("x", value))).build();
    requests.pipeInput(key, requestSerializer.serialize(Topics.DEFAULT_REQUESTS, request));
  }

  private List<InferenceResponse> drain() {
    driver.advanceWallClockTime(Duration.ofMillis(20));
    return predictions.readValuesToList();
  }

  @Test
  void shouldSendTheCanaryShareOfDistinctKeysToTheCanary() {
    publishSigned(plan(1, route("1", Role.PRIMARY, 0.9), route("2", Role.CANARY, 0.1)));
    for (int i = 0; i < 20_000; i++) {
      send("entity-" + i, 1);
    }
    List<InferenceResponse> out = drain();

    assertThat(out).hasSize(20_000);
    double canary = out.stream().filter(r -> r.getVersion().equals("2")).count() / 20_000.0;
    assertThat(canary).isBetween(0.085, 0.115);
    assertThat(out).allSatisfy(r -> {
      assertThat(r.getVariant()).isEqualTo(r.getVersion().equals("2") ? "CANARY" : "PRIMARY");
      assertThat(r.getPlanGeneration()).isEqualTo(1);
    });
  }

  @Test
  void shouldAnswerTheSameKeyWithTheSameVersionEveryTime() {
    publishSigned(plan(1, route("1", Role.VARIANT, 0.5), route("2", Role.VARIANT, 0.5)));
    for (int repeat = 0; repeat < 1000; repeat++) {
      send("alice", 1);
      send("bob", 1);
      send("carol", 1);
      send("dave", 1);
    }
    driver.advanceWallClockTime(Duration.ofMillis(20));
    Map<String, List<String>> byKey = predictions.readRecordsToList().stream().collect(Collectors.groupingBy(
        r -> r.key(), Collectors.mapping(r -> r.value().getVersion(), Collectors.toList())));

    assertThat(byKey).hasSize(4);
    byKey.forEach((key, versions) -> {
      assertThat(versions).hasSize(1000);
      assertThat(versions.stream().distinct()).as(key).hasSize(1);
    });
    assertThat(byKey.values().stream().map(v -> v.get(0)).distinct()).as("both variants used").hasSize(2);
  }

  @Test
  void shouldIgnoreUnsignedForgedAndStaleCommandsAndReportThem() {
    publishSigned(plan(5, route("1", Role.PRIMARY, 1.0)));
    publish(plan(6, route("2", Role.PRIMARY, 1.0)));
    publish(ControlSigning.sign(plan(7, route("2", Role.PRIMARY, 1.0)), "ops", OTHER_KEY.getPrivate()));
    publishSigned(plan(4, route("2", Role.PRIMARY, 1.0)));
    ControlCommand tampered = ControlCommand.newBuilder(ControlSigning.sign(plan(8, route("1", Role.PRIMARY, 1.0)),
        "ops", OPS_KEY.getPrivate())).setRoutes(List.of(route("2", Role.PRIMARY, 1.0))).build();
    publish(tampered);

    for (int i = 0; i < 50; i++) {
      send("k" + i, 1);
    }
    assertThat(drain()).allSatisfy(r -> {
      assertThat(r.getVersion()).isEqualTo("1");
      assertThat(r.getPlanGeneration()).isEqualTo(5);
    });
    assertThat(events.applied).hasSize(1);
    assertThat(events.rejected).hasSize(4);
    assertThat(events.rejected.get(0)).contains("unsigned");
    assertThat(events.rejected.get(1)).contains("bad signature");
    assertThat(events.rejected.get(2)).contains("stale generation 4");
    assertThat(events.rejected.get(3)).contains("bad signature");
  }

  @Test
  void shouldKeepServingTheOldPlanWhenANewVersionCannotLoad() {
    publishSigned(plan(1, route("1", Role.PRIMARY, 1.0)));
    publishSigned(plan(2, route("1", Role.PRIMARY, 0.5), route("9", Role.CANARY, 0.5)));

    for (int i = 0; i < 100; i++) {
      send("k" + i, 1);
    }
    assertThat(drain()).extracting(InferenceResponse::getVersion).containsOnly("1");
    assertThat(events.rejected).singleElement().asString()
        .contains("version 9 of mlp is not loadable").contains("generation 1 keeps serving");
  }

  @Test
  void shouldSendShadowAnswersOnlyToTheShadowTopicAndCompareThem() {
    publishSigned(plan(1, route("1", Role.PRIMARY, 1.0), route("2", Role.SHADOW, 1.0)));
    float[] inputs = {0.1f, 0.4f, 0.45f, 0.7f, 3f};
    for (float x : inputs) {
      send("k-" + x, x);
    }
    List<InferenceResponse> primary = drain();
    List<InferenceResponse> shadows = shadow.readValuesToList();
    Map<String, ShadowComparison> byId = comparisons.readValuesToList().stream()
        .collect(Collectors.toMap(ShadowComparison::getId, Function.identity()));

    assertThat(primary).hasSize(inputs.length).extracting(InferenceResponse::getVersion).containsOnly("1");
    assertThat(shadows).hasSize(inputs.length).allSatisfy(r -> {
      assertThat(r.getVersion()).isEqualTo("2");
      assertThat(r.getVariant()).isEqualTo("SHADOW");
    });
    // v1 scores [x, 1-x], v2 [2x, 1-x]: they disagree on the class exactly when 1/3 < x < 1/2.
    for (int i = 0; i < inputs.length; i++) {
      ShadowComparison c = byId.get("r" + i);
      assertThat(c.getMaxAbsDiff()).isCloseTo(inputs[i], org.assertj.core.data.Offset.offset(1e-6));
      assertThat(c.getTop1Agree()).as("x=" + inputs[i]).isEqualTo(!(inputs[i] > 1 / 3f && inputs[i] < 0.5f));
      assertThat(c.getPrimaryVersion()).isEqualTo("1");
      assertThat(c.getShadowVersion()).isEqualTo("2");
    }
  }

  @Test
  void shouldNotShadowRequestsServedByTheShadowVersionItself() {
    publishSigned(plan(1, route("1", Role.PRIMARY, 0.5), route("2", Role.CANARY, 0.5), route("2", Role.SHADOW, 1.0)));
    for (int i = 0; i < 200; i++) {
      send("k" + i, 1);
    }
    long servedByV1 = drain().stream().filter(r -> r.getVersion().equals("1")).count();
    assertThat(servedByV1).isBetween(50L, 150L);
    assertThat(comparisons.readValuesToList()).hasSize((int) servedByV1)
        .allSatisfy(c -> assertThat(c.getPrimaryVersion()).isEqualTo("1"));
  }

  @Test
  void shouldApplyBatchingOverridesFromTheControlTopic() {
    publishSigned(ControlCommand.newBuilder(plan(1, route("1", Role.PRIMARY, 1.0))).setMaxBatchSize(3).build());
    for (int i = 0; i < 9; i++) {
      send("k" + i, 1);
    }
    assertThat(predictions.readValuesToList()).hasSize(9);
    assertThat(engine.batchSizes).containsExactly(3, 3, 3);
  }
}

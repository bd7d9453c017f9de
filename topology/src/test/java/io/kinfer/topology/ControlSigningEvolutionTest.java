package io.kinfer.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.control.CommandVerifier;
import io.kinfer.topology.control.ControlPlane;
import io.kinfer.topology.control.ControlSigning;
import io.kinfer.topology.route.PlanRoutingTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Signed plans across ControlCommand schema versions, on the real topology: the worker here has
 * the current generated classes; the plans are written and signed under other schemas (parsed from
 * src/test/resources/evolution, written with GenericDatumWriter, registered like a producer of that
 * release would). A plan of the previous release (one field fewer) is the stored plan an upgraded
 * worker replays at every restart; a plan of the next release (one field more) is what a worker not
 * yet upgraded reads during a rolling upgrade. Both must verify, and the signature must still cover
 * every field as written, including the ones this worker's schema does not know.
 */
class ControlSigningEvolutionTest {
  private static final ModelVersion V1 = new ModelVersion("mlp", "1");
  private static final ModelVersion V2 = new ModelVersion("mlp", "2");
  private static final KeyPair OPS_KEY = ControlSigning.generate();
  private static final Schema CURRENT = ControlCommand.getClassSchema();
  private static final Schema NEXT = parse("/evolution/ControlCommand-next.avsc");
  private static final Schema PREVIOUS = parse("/evolution/ControlCommand-previous.avsc");

  private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
  private final AvroWireSerializer<ControlCommand> controlSerializer =
      new AvroWireSerializer<>(registry, CURRENT, false);
  private final SumEngine engine = new SumEngine(V1, V2);
  private final RecordingEvents events = new RecordingEvents();
  private final PlanRoutingTable routes = new PlanRoutingTable(engine::loaded, Map.of("mlp", "1"));
  private TopologyTestDriver driver;
  private TestInputTopic<String, byte[]> control;

  @BeforeEach
  void start() {
    TopologyConfig config = new TopologyConfig(Topics.defaults(), 1000, Duration.ofMillis(10), 100_000, "w1");
    ControlPlane plane = new ControlPlane(new CommandVerifier(Map.of("ops", OPS_KEY.getPublic())),
        SumEngine.preparer(engine.loaded()), events);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "kinfer-signing-evolution-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    driver = new TopologyTestDriver(InferenceTopology.build(config, engine, routes, plane, registry,
        new PipelineMetrics(new MetricRegistry())), props, Instant.parse("2026-01-01T00:00:00Z"));
    control = driver.createInputTopic(Topics.DEFAULT_CONTROL, new StringSerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void close() {
    driver.close();
  }

  @Test
  void shouldApplyAPlanSignedByTheNextReleaseWithAFieldThisWorkerDoesNotKnow() {
    GenericRecord next = as(NEXT, plan(1, 0.9));
    next.put("drainMs", 250L);
    publish(NEXT, ControlSigning.sign(next, "ops", OPS_KEY.getPrivate()));

    assertThat(events.rejected).isEmpty();
    assertThat(routes.plan("mlp").orElseThrow().generation()).isEqualTo(1);
  }

  @Test
  void shouldApplyAPlanStoredByThePreviousReleaseWithAFieldFewer() {
    publish(PREVIOUS, ControlSigning.sign(as(PREVIOUS, plan(1, 0.9)), "ops", OPS_KEY.getPrivate()));

    assertThat(events.rejected).isEmpty();
    assertThat(routes.plan("mlp").orElseThrow().generation()).isEqualTo(1);
  }

  @Test
  void shouldStillRejectAFieldThisWorkerDoesNotKnowChangedAfterSigning() {
    GenericRecord next = as(NEXT, plan(1, 0.9));
    next.put("drainMs", 250L);
    GenericRecord signed = ControlSigning.sign(next, "ops", OPS_KEY.getPrivate());
    signed.put("drainMs", 0L);
    publish(NEXT, signed);

    assertThat(events.rejected).singleElement().asString().contains("bad signature");
    assertThat(routes.plan("mlp")).isEmpty();
  }

  @Test
  void shouldKeepAcceptingPlansSignedByTheReleasedRuleBeforeThisChange() throws Exception {
    // Exactly what ControlSigning.sign of release 0.1.0 produced: Ed25519 over the Avro encoding
    // of the command (keyId set, signature null) under the schema it was written with.
    ControlCommand unsigned = ControlCommand.newBuilder(plan(1, 0.9)).setKeyId("ops").setSignature(null).build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    new SpecificDatumWriter<>(ControlCommand.class).write(unsigned, encoder);
    Signature signer = Signature.getInstance("Ed25519");
    signer.initSign(OPS_KEY.getPrivate());
    signer.update(out.toByteArray());
    ControlCommand stored = ControlCommand.newBuilder(unsigned).setSignature(ByteBuffer.wrap(signer.sign())).build();
    control.pipeInput("mlp", controlSerializer.serialize(Topics.DEFAULT_CONTROL, stored));

    assertThat(events.rejected).isEmpty();
    assertThat(routes.plan("mlp").orElseThrow().generation()).isEqualTo(1);
  }

  @Test
  void shouldRejectSignedBytesRelabelledWithASchemaThatReadsThemDifferently() {
    // Same layout, PRIMARY and CANARY swapped: the signed bytes would now make "2" the primary.
    // An attacker able to register any schema could point a signed record at it.
    byte[] current = controlSerializer.serialize(Topics.DEFAULT_CONTROL,
        ControlSigning.sign(plan(1, 0.9), "ops", OPS_KEY.getPrivate()));
    GenericRecord next = as(NEXT, plan(2, 0.9));
    byte[] nextValue = wire(NEXT, ControlSigning.sign(next, "ops", OPS_KEY.getPrivate()));

    control.pipeInput("mlp", relabel(current, swappedRoles(CURRENT)));
    control.pipeInput("mlp", relabel(nextValue, swappedRoles(NEXT)));

    assertThat(events.rejected).hasSize(2).allSatisfy(r -> assertThat(r).contains("bad signature"));
    assertThat(routes.plan("mlp")).isEmpty();
  }

  static ControlCommand plan(long generation, double primaryWeight) {
    return ControlCommand.newBuilder().setModel("mlp").setGeneration(generation)
        .setRoutes(List.of(new Route("1", Role.PRIMARY, primaryWeight), new Route("2", Role.CANARY, 1 - primaryWeight)))
        .setSalt("s1").setMaxBatchSize(8).setMaxWaitMs(5L).setIssuer("test").setIssuedAt(Instant.EPOCH).build();
  }

  /** {@code command} as a record of {@code schema} (Avro resolution: new fields get their default). */
  static GenericRecord as(Schema schema, ControlCommand command) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new SpecificDatumWriter<>(ControlCommand.class).write(command, encoder);
      encoder.flush();
      return new GenericDatumReader<GenericRecord>(CURRENT, schema, new GenericData())
          .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private void publish(Schema schema, GenericRecord command) {
    control.pipeInput("mlp", wire(schema, command));
  }

  /** What a producer of the release with {@code schema} writes: Confluent wire format. */
  private byte[] wire(Schema schema, GenericRecord command) {
    try {
      int id = registry.register(AvroWireSerializer.subject(Topics.DEFAULT_CONTROL, false), schema);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(0);
      out.write(ByteBuffer.allocate(4).putInt(id).array());
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(schema, new GenericData()).write(command, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The same value bytes under another schema id. */
  private byte[] relabel(byte[] value, Schema schema) {
    int id = registry.register("attacker-value", schema);
    byte[] copy = value.clone();
    ByteBuffer.wrap(copy, 1, 4).putInt(id);
    return copy;
  }

  private static Schema swappedRoles(Schema schema) {
    String json = schema.toString();
    String swapped = json.replace("[\"PRIMARY\",\"CANARY\"", "[\"CANARY\",\"PRIMARY\"");
    assertThat(swapped).isNotEqualTo(json);
    return new Schema.Parser().parse(swapped);
  }

  private static Schema parse(String resource) {
    try (InputStream in = ControlSigningEvolutionTest.class.getResourceAsStream(resource)) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

package io.kinfer.topology.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.schemas.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** What a control signature covers, independent of the verifying worker's schema. */
class ControlSigningTest {
  private static final String TOPIC = "inference.control";
  private static final KeyPair OPS = ControlSigning.generate();
  private static final Schema CURRENT = ControlCommand.getClassSchema();
  private static final Schema NEXT = parse("/evolution/ControlCommand-next.avsc");

  private final InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
  private final ControlRecordDecoder decoder = new ControlRecordDecoder(registry);
  private final CommandVerifier verifier = new CommandVerifier(Map.of("ops", OPS.getPublic()));

  @Test
  void shouldVerifyAPlanOfTheCurrentClassesOnAWorkerReadingWithTheNextSchema() throws Exception {
    byte[] value = new AvroWireSerializer<ControlCommand>(registry, CURRENT, false)
        .serialize(TOPIC, ControlSigning.sign(plan(), "ops", OPS.getPrivate()));

    // The worker of the next release reads the plan with its own schema: the new field defaults...
    GenericRecord asNext = new GenericDatumReader<GenericRecord>(registry.schemaById(idOf(value)), NEXT,
        new GenericData()).read(null, DecoderFactory.get().binaryDecoder(value, WireFormat.HEADER_BYTES,
            value.length - WireFormat.HEADER_BYTES, null));
    assertThat(asNext.get("drainMs")).isNull();
    assertThat(asNext.get("keyId")).hasToString("ops");
    // ...and the rule before this change, re-encoding that record under the reader's schema, fails:
    GenericData.Record unsigned = new GenericData.Record((GenericData.Record) asNext, false);
    unsigned.put("signature", null);
    Signature old = Signature.getInstance("Ed25519");
    old.initVerify(OPS.getPublic());
    old.update(encode(NEXT, unsigned));
    assertThat(old.verify(bytes((ByteBuffer) asNext.get("signature")))).as("the old rule on an evolved worker").isFalse();
    // What the worker verifies is derived from the value and the writer's schema only:
    ControlRecord received = decoder.decode(TOPIC, value);
    assertThat(received.signedBytes()).isEqualTo(encode(CURRENT, unsigned(plan(), "ops")));
    assertThat(verifier.check(received)).isNull();
  }

  @Test
  void shouldCoverTheNextReleasesFieldAndNameItsSchema() {
    GenericRecord next = asNext(plan());
    next.put("drainMs", 250L);
    ControlRecord received = decoder.decode(TOPIC, wire(NEXT, ControlSigning.sign(next, "ops", OPS.getPrivate())));

    assertThat(verifier.check(received)).isNull();
    assertThat(received.command().getModel()).isEqualTo("mlp");
    byte[] prefix = ControlSigning.prefix(NEXT);
    assertThat(prefix).startsWith(ControlSigning.TAG).hasSize(ControlSigning.TAG.length + 32);
    assertThat(received.signedBytes()).startsWith(prefix);
  }

  @Test
  void shouldSignTheReleasedSchemaAsReleaseZeroOneZeroDidSoItsWorkersAcceptPlansDuringTheUpgrade()
      throws Exception {
    Schema released = new Schema.Parser().parse(
        Files.readString(Path.of("../schemas/src/test/resources/compat/0.1.0/ControlCommand.avsc")));
    assertThat(HexFormat.of().formatHex(SchemaNormalization.parsingFingerprint("SHA-256", released)))
        .isEqualTo(ControlSigning.RELEASED_0_1_0_FINGERPRINT);
    assertThat(ControlSigning.prefix(released)).isEmpty();

    // Release 0.1.0 verified Ed25519 over the specific encoding of the command with signature null.
    ControlCommand signed = ControlSigning.sign(plan(), "ops", OPS.getPrivate());
    Signature old = Signature.getInstance("Ed25519");
    old.initVerify(OPS.getPublic());
    old.update(encode(CURRENT, unsigned(plan(), "ops")));
    assertThat(old.verify(bytes(signed.getSignature()))).isTrue();
    // A valid encoding starts with the even zigzag byte of a length: never the tag's first byte.
    assertThat(ControlSigning.TAG[0] & 1).isEqualTo(1);
  }

  @Test
  void shouldReencodeMapsInTheOrderTheyWereWritten() throws Exception {
    Schema withLabels = new Schema.Parser().parse(NEXT.toString().replace(
        "{\"name\":\"drainMs\"", "{\"name\":\"labels\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{}},"
            + "{\"name\":\"drainMs\""));
    Map<String, String> labels = new LinkedHashMap<>();
    for (char c = 'z'; c >= 'a'; c--) {
      labels.put(String.valueOf(c) + c, "v" + c);
    }
    assertThat(new ArrayList<>(new HashMap<>(labels).keySet())).as("a HashMap would reorder them")
        .isNotEqualTo(new ArrayList<>(labels.keySet()));
    GenericRecord command = new GenericDatumReader<GenericRecord>(NEXT, withLabels, new GenericData())
        .read(null, DecoderFactory.get().binaryDecoder(encode(NEXT, asNext(plan())), null));
    command.put("labels", labels);

    ControlRecord received = decoder.decode(TOPIC, wire(withLabels, ControlSigning.sign(command, "ops", OPS.getPrivate())));

    assertThat(verifier.check(received)).isNull();
  }

  @Test
  void shouldRefuseUnsignedForeignAndTamperedCommands() throws Exception {
    AvroWireSerializer<ControlCommand> serializer = new AvroWireSerializer<>(registry, CURRENT, false);
    assertThat(verifier.check(decoder.decode(TOPIC, serializer.serialize(TOPIC, plan())))).contains("unsigned");
    ControlCommand foreign = ControlSigning.sign(plan(), "ops", ControlSigning.generate().getPrivate());
    assertThat(verifier.check(decoder.decode(TOPIC, serializer.serialize(TOPIC, foreign)))).contains("bad signature");
    ControlCommand tampered = ControlCommand.newBuilder(ControlSigning.sign(plan(), "ops", OPS.getPrivate()))
        .setSalt("other").build();
    assertThat(verifier.check(decoder.decode(TOPIC, serializer.serialize(TOPIC, tampered)))).contains("bad signature");
    ControlCommand otherId = ControlSigning.sign(plan(), "dev", OPS.getPrivate());
    assertThat(verifier.check(decoder.decode(TOPIC, serializer.serialize(TOPIC, otherId)))).contains("unknown key id 'dev'");

    Schema withoutSignature = new Schema.Parser().parse(CURRENT.toString()
        .replaceAll(",\\{\"name\":\"keyId\".*\\}\\]\\}$", "]}"));
    assertThat(withoutSignature.getField("signature")).isNull();
    GenericRecord bare = new GenericDatumReader<GenericRecord>(CURRENT, withoutSignature, new GenericData())
        .read(null, DecoderFactory.get().binaryDecoder(encode(CURRENT, unsigned(plan(), "ops")), null));
    assertThat(verifier.check(decoder.decode(TOPIC, wire(withoutSignature, bare)))).contains("unsigned");
  }

  private static ControlCommand plan() {
    return ControlCommand.newBuilder().setModel("mlp").setGeneration(3)
        .setRoutes(List.of(new Route("1", Role.PRIMARY, 0.8), new Route("2", Role.CANARY, 0.2)))
        .setSalt("s").setIssuer("test").setIssuedAt(Instant.ofEpochMilli(1_700_000_000_000L)).build();
  }

  private static ControlCommand unsigned(ControlCommand command, String keyId) {
    return ControlCommand.newBuilder(command).setKeyId(keyId).setSignature(null).build();
  }

  private static GenericRecord asNext(ControlCommand command) {
    try {
      return new GenericDatumReader<GenericRecord>(CURRENT, NEXT, new GenericData())
          .read(null, DecoderFactory.get().binaryDecoder(encode(CURRENT, command), null));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private byte[] wire(Schema schema, GenericRecord command) {
    int id = registry.register(AvroWireSerializer.subject(TOPIC, false), schema);
    byte[] body = encode(schema, command);
    return ByteBuffer.allocate(WireFormat.HEADER_BYTES + body.length).put(WireFormat.MAGIC).putInt(id).put(body).array();
  }

  private static int idOf(byte[] value) {
    return ByteBuffer.wrap(value, 1, 4).getInt();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static byte[] encode(Schema schema, Object datum) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      if (datum instanceof ControlCommand) {
        new SpecificDatumWriter<>(schema).write(datum, encoder);
      } else {
        new GenericDatumWriter(schema, new GenericData()).write(datum, encoder);
      }
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  private static Schema parse(String resource) {
    try (InputStream in = ControlSigningTest.class.getResourceAsStream(resource)) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}

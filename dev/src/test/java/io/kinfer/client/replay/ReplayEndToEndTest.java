package io.kinfer.client.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.client.control.TopicReader;
import io.kinfer.dev.EmbeddedKafka;
import io.kinfer.dev.registry.EmbeddedSchemaRegistry;
import io.kinfer.ops.replay.CompareCommand;
import io.kinfer.ops.replay.ReplayCommand;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.ModelVersion;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import picocli.CommandLine;

/** ops replay on a real broker, with models and traffic whose differences are known by construction. */
@Tag("integration")
class ReplayEndToEndTest {
  private static final int N = 1_500;
  private static final String REQUESTS = "replay.requests";
  private static final String PREDICTIONS = "replay.predictions";
  private static final String LABELS = "replay.labels";
  private static final String SANDBOX = "replay.sandbox";
  private static final String COMPARISONS = "replay.comparisons";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EmbeddedKafka kafka;
  private static InMemorySchemaRegistry registry;
  private static EmbeddedSchemaRegistry http;
  @TempDir static Path shared;
  @TempDir Path dir;

  @BeforeAll
  static void traffic() throws Exception {
    kafka = EmbeddedKafka.startEphemeral();
    registry = new InMemorySchemaRegistry();
    http = new EmbeddedSchemaRegistry(registry, "127.0.0.1", 0);
    try (Admin admin = Admin.create(kafka.clientConfig(EmbeddedKafka.ADMIN_USER))) {
      admin.createTopics(List.of(new NewTopic(REQUESTS, 3, (short) 1), new NewTopic(PREDICTIONS, 3, (short) 1),
          new NewTopic(LABELS, 2, (short) 1), new NewTopic(SANDBOX, 3, (short) 1),
          new NewTopic(COMPARISONS, 2, (short) 1))).all().get();
    }
    ReplayFixture.writeModels(shared.resolve("models"));
    ReplayFixture.produceRequests(kafka.clientConfig("x"), registry, REQUESTS, N);
    ReplayFixture.producePredictions(kafka.clientConfig("x"), registry, PREDICTIONS, N);
    ReplayFixture.produceLabels(kafka.clientConfig("x"), LABELS, N);
    ReplayFixture.produceComparisons(kafka.clientConfig("x"), registry, COMPARISONS, N);
  }

  @AfterAll
  static void stop() {
    http.close();
    kafka.close();
  }

  private Replay.Options options(Instant from, Instant to, ModelVersion baseline, String labels) {
    return options(from, to, baseline, labels, null);
  }

  private Replay.Options options(Instant from, Instant to, ModelVersion baseline, String labels, String sandbox) {
    return new Replay.Options(kafka.clientConfig("x"), registry, REQUESTS, from, to, null, null,
        shared.resolve("models"), List.of(new ModelVersion(ReplayFixture.MODEL, "2")), baseline, PREDICTIONS, labels,
        1_000_000, dir, 64, 1e-6, Duration.ofSeconds(5), sandbox, null);
  }

  @Test
  void shouldWriteTheCandidatesAnswersToASandboxTopicInTransactions() throws Exception {
    new Replay(options(null, null, new ModelVersion(ReplayFixture.MODEL, "1"), null, SANDBOX)).run();

    AvroWireDeserializer<InferenceResponse> decoder = new AvroWireDeserializer<>(registry,
        InferenceResponse.getClassSchema());
    Map<String, InferenceResponse> answers = new java.util.HashMap<>();
    TopicReader.read(kafka.bootstrapServers(), SANDBOX, new ByteArrayDeserializer(), new ByteArrayDeserializer(), 0,
        r -> answers.merge(decoder.deserialize(SANDBOX, r.value()).getId().toString(),
            decoder.deserialize(SANDBOX, r.value()), (a, b) -> {
              throw new AssertionError("two answers for " + a.getId());
            }));
    assertThat(answers).hasSize(N);
    assertThat(answers.values()).allSatisfy(a -> {
      assertThat(a.getVersion()).isEqualTo("2");
      assertThat(a.getVariant()).isEqualTo("REPLAY");
    });
    float[] got = io.kinfer.topology.shadow.ShadowComparator.floats(answers.get(ReplayFixture.id(3)).getOutputs().get(0));
    assertThat(got).containsExactly(ReplayFixture.output(3, "2"));
  }

  @Test
  void shouldSummariseLiveComparisonsWithTheSameReportAndGates() throws Exception {
    String[] common = {"--bootstrap", kafka.bootstrapServers(), "--registry", http.url(), "--topic", COMPARISONS,
        "--from", Instant.ofEpochMilli(ReplayFixture.T0).toString(),
        "--to", Instant.ofEpochMilli(ReplayFixture.T0 + N * ReplayFixture.STEP_MS + 1_000).toString()};
    int passed = new CommandLine(new CompareCommand()).execute(concat(common, "--out", dir.resolve("ok").toString(),
        "--gate", "top1_agreement>=0.85"));
    int failed = new CommandLine(new CompareCommand()).execute(concat(common, "--out", dir.resolve("no").toString(),
        "--gate", "top1_agreement>=0.9"));
    assertThat(passed).isZero();
    assertThat(failed).isEqualTo(3);
    JsonNode c = JSON.readTree(dir.resolve("ok/report.json").toFile()).at("/comparisons/0");
    assertThat(c.get("candidate").asText()).isEqualTo("lin:2");
    assertThat(c.get("baseline").asText()).isEqualTo("lin:1");
    assertThat(c.get("compared").asLong()).isEqualTo(N);
    assertThat(c.at("/metrics/top1_agreement").asDouble())
        .isCloseTo(1 - (double) ReplayFixture.differing(0, N, i -> true).size() / N, within(1e-12));
  }

  @Test
  void shouldReportExactlyTheRequestsOnWhichTheVersionsDiffer() throws Exception {
    Report report = new Replay(options(null, null, new ModelVersion(ReplayFixture.MODEL, "1"), null)).run();
    ReportWriter.write(dir, report);

    Set<String> expected = ReplayFixture.differing(0, N, i -> true);
    assertThat(disagreeingIds()).isEqualTo(expected);
    JsonNode c = JSON.readTree(dir.resolve("report.json").toFile()).at("/comparisons/0");
    assertThat(c.get("compared").asLong()).isEqualTo(N);
    assertThat(c.at("/metrics/top1_agreement").asDouble()).isCloseTo(1 - (double) expected.size() / N, within(1e-12));
    assertThat(c.at("/metrics/max_diff").asDouble()).isEqualTo(1.0);
    assertThat(c.at("/absDiff/exactZero").asLong()).isEqualTo(N - expected.size());
    assertThat(c.at("/confusion/matrix/0/1").asLong()).as("v1 said 0, v2 said 1").isEqualTo(expected.size());
    assertThat(c.at("/confusion/matrix/0/0").asLong()).isZero();
    assertThat(JSON.readTree(dir.resolve("report.json").toFile()).at("/partial").asBoolean()).isFalse();
  }

  @Test
  void shouldJoinRecordedPredictionsByIdAndGiveTheAbTestAVerdict() throws Exception {
    Report report = new Replay(options(null, null, null, LABELS)).run();
    ReportWriter.write(dir, report);

    // Recorded: even ids by v1, odd by v2; the candidate v2 differs exactly on the even ids of the subset.
    assertThat(disagreeingIds()).isEqualTo(ReplayFixture.differing(0, N, i -> i % 2 == 0));
    JsonNode r = JSON.readTree(dir.resolve("report.json").toFile());
    assertThat(r.at("/comparisons/0/compared").asLong()).isEqualTo(N);
    assertThat(r.at("/comparisons/0/missingBaseline").asLong()).isZero();
    // Labels say v2 is right everywhere: the candidate is at 100%, recorded answers lose the even subset.
    JsonNode acc = r.at("/comparisons/0/accuracy");
    assertThat(acc.at("/candidate/rate").asDouble()).isEqualTo(1.0);
    long wrong = ReplayFixture.differing(0, N, i -> i % 2 == 0).size();
    assertThat(acc.at("/baseline/correct").asLong()).isEqualTo(N - wrong);
    assertThat(acc.at("/test/pValue").asDouble()).isLessThan(1e-6);
    assertThat(acc.at("/test/verdict").asText()).startsWith("lin:2 is better");
    // The live A/B split (recorded version per request) gets accuracy with intervals and a z-test.
    JsonNode ab = r.at("/abTest");
    assertThat(ab.at("/accuracy/1/labelled").asLong()).isEqualTo(N / 2);
    assertThat(ab.at("/accuracy/2/rate").asDouble()).isEqualTo(1.0);
    assertThat(ab.at("/accuracy/1/ci95/0").asDouble()).isLessThan(ab.at("/accuracy/1/rate").asDouble());
    assertThat(ab.at("/tests/0/pValue").asDouble()).isLessThan(1e-6);
    assertThat(ab.at("/tests/0/verdict").asText()).startsWith("2 is better than 1");
  }

  @Test
  void shouldSelectExactlyTheRecordsOfATimeRangeOnEveryPartition() throws Exception {
    Instant from = Instant.ofEpochMilli(ReplayFixture.T0 + 300 * ReplayFixture.STEP_MS);
    Instant to = Instant.ofEpochMilli(ReplayFixture.T0 + 900 * ReplayFixture.STEP_MS);
    Report report = new Replay(options(from, to, new ModelVersion(ReplayFixture.MODEL, "1"), null)).run();
    ReportWriter.write(dir, report);

    assertThat(disagreeingIds()).isEqualTo(ReplayFixture.differing(300, 900, i -> true));
    JsonNode r = JSON.readTree(dir.resolve("report.json").toFile());
    assertThat(r.at("/counts/requests").asLong()).isEqualTo(600);
    assertThat(r.at("/source/partitions")).hasSize(3);
    long sliced = 0;
    for (JsonNode p : r.at("/source/partitions")) {
      assertThat(p.get("end").asLong()).isGreaterThan(p.get("start").asLong());
      sliced += p.get("end").asLong() - p.get("start").asLong();
    }
    assertThat(sliced).as("offsetsForTimes slices hold exactly the range").isEqualTo(600);
  }

  @Test
  void shouldExitNonZeroWhenAGateFailsAndWriteAReadableHtmlReport() throws Exception {
    String[] common = {"--bootstrap", kafka.bootstrapServers(), "--registry", http.url(), "--topic", REQUESTS, "--models",
        shared.resolve("models").toString(), "--candidate", "lin:2", "--baseline", "lin:1"};
    int failed = new CommandLine(new ReplayCommand()).execute(concat(common, "--out",
        dir.resolve("fail").toString(), "--gate", "top1_agreement>=0.99,p99_diff<=1e-3"));
    int passed = new CommandLine(new ReplayCommand()).execute(concat(common, "--out",
        dir.resolve("pass").toString(), "--gate", "top1_agreement>=0.8,compared>=1500"));
    assertThat(failed).isEqualTo(3);
    assertThat(passed).isZero();
    JsonNode gates = JSON.readTree(dir.resolve("fail/report.json").toFile()).get("gates");
    assertThat(gates).hasSize(2);
    assertThat(gates.get(0).get("passed").asBoolean()).isFalse();

    Document html = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(dir.resolve("fail/report.html").toFile());
    List<String> svgClasses = new java.util.ArrayList<>();
    NodeList svgs = html.getElementsByTagName("svg");
    for (int i = 0; i < svgs.getLength(); i++) {
      svgClasses.add(((Element) svgs.item(i)).getAttribute("class"));
    }
    assertThat(svgClasses).contains("chart histogram", "chart timeline");
    assertThat(html.getElementsByTagName("rect").getLength()).isGreaterThanOrEqualTo(10);
    assertThat(html.getElementsByTagName("polyline").getLength()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("fail/report.html"))).contains("class=\"confusion\"", "id=\"gates\"",
        ">FAIL<").doesNotContain("PARTIAL REPORT");

    Optional<HeadlessChromium> browser = HeadlessChromium.find(dir);
    if (browser.isEmpty()) {
      System.out.println("No Chromium here (set KINFER_BROWSER or install Debian's chromium): structural checks only");
      return;
    }
    Path page = dir.resolve("fail/report.html");
    String dom = browser.get().dumpDom(page, dir.resolve("dom.log"));
    assertThat(dom).contains("<svg class=\"chart histogram\"", "<svg class=\"chart timeline\"", "<polyline",
        "<table class=\"confusion\"");
    Path png = browser.get().screenshot(page, dir.resolve("report.png"), dir.resolve("shot.log"));
    assertThat(Files.readString(dir.resolve("shot.log")) + Files.readString(dir.resolve("dom.log")))
        .as("console messages of the page").doesNotContain(":CONSOLE(");
    BufferedImage image = ImageIO.read(png.toFile());
    Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        colours.add(image.getRGB(x, y) & 0xffffff);
      }
    }
    assertThat(colours).as("histogram bars drawn in their colour").contains(0x3b6ea8);
    assertThat(colours.size()).as("a rendered page, not a blank one").isGreaterThan(50);
  }

  private Set<String> disagreeingIds() throws Exception {
    Set<String> ids = new TreeSet<>();
    for (String line : Files.readAllLines(dir.resolve("disagreements.jsonl"))) {
      ids.add(JSON.readTree(line).get("id").asText());
    }
    return ids;
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

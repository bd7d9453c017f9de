package io.kinfer.client.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.evaluation.AbOutcome;
import io.kinfer.evaluation.PairStats;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.InferenceResponse;
import io.kinfer.schemas.Status;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.Timings;
import io.kinfer.schemas.registry.SchemaRegistry;
import io.kinfer.schemas.serde.AvroWireDeserializer;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.shadow.ShadowComparator;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.repository.ModelRepository;
import java.io.BufferedWriter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Re-runs stored requests through candidate model versions, directly on ONNX Runtime (production
 * traffic untouched), and compares each candidate with a baseline: the predictions recorded on the
 * predictions topic, or another version run in the same replay. Streams the range in chunks, so
 * memory does not grow with it; {@link #stop()} ends early with a report marked partial.
 */
public final class Replay {
  /** Baseline name when it is the recorded predictions. */
  public static final String RECORDED = "recorded";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param baselineVersion null = the recorded predictions on {@code predictionsTopic}
   * @param labelsTopic null = no accuracy
   * @param sandboxTopic null = candidates' answers are not written anywhere
   * @param progress null = quiet
   */
  public record Options(Map<String, Object> client, SchemaRegistry registry, String requestsTopic, Instant from,
      Instant to, Long fromOffset, Long toOffset, Path models, List<ModelVersion> candidates,
      ModelVersion baselineVersion, String predictionsTopic, String labelsTopic, int maxLabels, Path out,
      int batchSize, double tolerance, Duration answerDelay, String sandboxTopic, PrintStream progress) {}

  private final Options o;
  private volatile boolean stopRequested;

  public Replay(Options options) {
    if (options.candidates().isEmpty()) {
      throw new IllegalArgumentException("Name at least one candidate version, e.g. --candidate mlp:2");
    }
    String model = options.candidates().get(0).model();
    if (options.candidates().stream().anyMatch(c -> !c.model().equals(model))
        || (options.baselineVersion() != null && !options.baselineVersion().model().equals(model))) {
      throw new IllegalArgumentException("Candidates and baseline must be versions of one model; replay each model"
          + " separately");
    }
    this.o = options;
  }

  /** Ends the replay after the chunk in hand; the report is written and marked partial. */
  public void stop() {
    stopRequested = true;
  }

  /** Runs the replay and writes the report; returns the report (also in {@code out/report.json}). */
  public Report run() throws Exception {
    Files.createDirectories(o.out());
    long started = System.currentTimeMillis();
    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu());
        RangeReader reader = new RangeReader(o.client(), Math.max(o.batchSize(), 500));
        BufferedWriter disagreements = Files.newBufferedWriter(o.out().resolve("disagreements.jsonl"));
        FailureLog failures = new FailureLog(o.out().resolve("failures.jsonl"));
        KafkaProducer<byte[], InferenceResponse> sandbox = sandboxProducer()) {
      return new Run(engine, reader, disagreements, failures, sandbox).execute(started);
    }
  }

  /** One replay's open resources and running tallies, so each step names only what it does. */
  private final class Run {
    private final OnnxEngine engine;
    private final RangeReader reader;
    private final BufferedWriter disagreements;
    private final FailureLog failures;
    private final KafkaProducer<byte[], InferenceResponse> sandbox;
    private final String model = o.candidates().get(0).model();
    private final Map<ModelVersion, PairStats> pairs = new LinkedHashMap<>();
    private final Map<ModelVersion, VersionStats> perVersion = new LinkedHashMap<>();
    private final AbOutcome ab = new AbOutcome();
    private final AvroWireDeserializer<InferenceRequest> decoder = Topics.requestsSpec(o.requestsTopic())
        .valueDeserializer(o.registry());
    private Map<String, Integer> labels = Map.of();
    private RecordedPredictions recorded;
    private long requests;
    private long otherModels;
    private long undecodable;
    private long labelsMalformed;
    private long read;

    Run(OnnxEngine engine, RangeReader reader, BufferedWriter disagreements, FailureLog failures,
        KafkaProducer<byte[], InferenceResponse> sandbox) {
      this.engine = engine;
      this.reader = reader;
      this.disagreements = disagreements;
      this.failures = failures;
      this.sandbox = sandbox;
      if (o.baselineVersion() != null) {
        perVersion.put(o.baselineVersion(), new VersionStats());
      }
      String baselineName = o.baselineVersion() == null ? RECORDED : o.baselineVersion().toString();
      for (ModelVersion c : o.candidates()) {
        perVersion.put(c, new VersionStats());
        pairs.put(c, new PairStats(baselineName, c.toString(), o.tolerance()));
      }
    }

    Report execute(long started) throws Exception {
      ModelRepository repository = new ModelRepository(o.models(), 1L << 31);
      for (ModelVersion v : perVersion.keySet()) {
        engine.load(repository.load(v));
      }
      if (o.labelsTopic() != null) {
        long[] malformed = new long[1];
        labels = Labels.read(reader, TopicRange.resolve(reader.consumer(), o.labelsTopic(), null, null, null, null),
            o.maxLabels(), malformed);
        labelsMalformed = malformed[0];
      }
      TopicRange range = TopicRange.resolve(reader.consumer(), o.requestsTopic(), o.from(), o.to(), o.fromOffset(),
          o.toOffset());
      Object recordedReport = null;
      if (o.baselineVersion() == null) {
        recorded = new RecordedPredictions(o.client(), o.registry(), o.predictionsTopic(), o.answerDelay(), 200_000);
      }
      Progress progress = new Progress(o.progress(), "replay " + o.requestsTopic(), range.size());
      try {
        if (recorded != null) {
          recorded.open(o.from() != null ? o.from().toEpochMilli() : reader.firstTimestamp(range));
        }
        reader.read(range, () -> stopRequested, chunk -> {
          accept(chunk);
          read += chunk.size();
          progress.update(read, false);
        });
      } finally {
        progress.update(read, true);
        if (recorded != null) {
          recordedReport = recorded.toReport();
          recorded.close();
        }
      }
      return report(range, started, recordedReport);
    }

    /** One chunk: decode, keep this model's requests, then compare them batch by batch (one sandbox transaction). */
    private void accept(List<ConsumerRecord<byte[], byte[]>> chunk) throws Exception {
      List<InferenceRequest> batch = new ArrayList<>();
      List<ConsumerRecord<byte[], byte[]>> sources = new ArrayList<>();
      for (ConsumerRecord<byte[], byte[]> r : chunk) {
        InferenceRequest request = decode(r);
        if (request != null) {
          batch.add(request);
          sources.add(r);
        }
      }
      if (recorded != null && !sources.isEmpty()) {
        recorded.advanceTo(sources.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow());
      }
      if (sandbox != null) {
        sandbox.beginTransaction();
      }
      for (int from = 0; from < batch.size(); from += o.batchSize()) {
        int to = Math.min(batch.size(), from + o.batchSize());
        compare(batch.subList(from, to), sources.subList(from, to));
      }
      if (sandbox != null) {
        sandbox.commitTransaction();
      }
    }

    /** The request, or null when it cannot be read (logged as a failure) or is another model's (counted). */
    private InferenceRequest decode(ConsumerRecord<byte[], byte[]> r) throws java.io.IOException {
      InferenceRequest request;
      try {
        request = decoder.deserialize(o.requestsTopic(), r.value());
      } catch (RuntimeException e) {
        undecodable++;
        failures.add(r, null, "decode", e.getMessage());
        return null;
      }
      if (request == null) {
        undecodable++;
        failures.add(r, null, "decode", "record without a value (tombstone)");
        return null;
      }
      if (!request.getModel().toString().equals(model)) {
        otherModels++;
        return null;
      }
      requests++;
      return request;
    }

    private void compare(List<InferenceRequest> batch, List<ConsumerRecord<byte[], byte[]>> sources) throws Exception {
      Map<ModelVersion, BatchResult> results = new HashMap<>();
      for (ModelVersion v : perVersion.keySet()) {
        BatchResult result = infer(v, batch);
        perVersion.get(v).batch(batch.size(), result.engineNanos());
        results.put(v, result);
      }
      for (int i = 0; i < batch.size(); i++) {
        InferenceRequest request = batch.get(i);
        ConsumerRecord<byte[], byte[]> source = sources.get(i);
        Baseline base = baseline(request, source, results.get(o.baselineVersion()), i);
        for (Map.Entry<ModelVersion, PairStats> e : pairs.entrySet()) {
          BatchResult result = results.get(e.getKey());
          if (sandbox != null) {
            sandbox.send(new ProducerRecord<>(o.sandboxTopic(), source.key(), sandboxAnswer(request, e.getKey(),
                result.outcomes().get(i), source.timestamp(), result)));
          }
          candidate(e.getKey(), e.getValue(), result.outcomes().get(i), base, source, request.getId().toString());
        }
      }
    }

    /** An engine failure fails every request of the batch, as the worker would answer them. */
    private BatchResult infer(ModelVersion v, List<InferenceRequest> batch) {
      try {
        return engine.infer(v, batch);
      } catch (RuntimeException e) {
        List<BatchResult.Outcome> failed = new ArrayList<>();
        batch.forEach(r -> failed.add(BatchResult.Outcome.engineFailed("engine: " + e.getMessage())));
        return new BatchResult(failed, 0);
      }
    }

    /** What the candidates are compared with: the recorded answer, or the baseline version's in this run. */
    private Baseline baseline(InferenceRequest request, ConsumerRecord<byte[], byte[]> source, BatchResult run, int i)
        throws java.io.IOException {
      String id = request.getId().toString();
      Integer label = labels.get(id);
      if (recorded != null) {
        InferenceResponse answer = recorded.take(id);
        if (answer == null || answer.getStatus() != Status.OK) {
          return new Baseline(null, -1, label);
        }
        int top1 = ShadowComparator.top1(answer.getOutputs());
        if (label != null && answer.getVersion() != null) {
          ab.record(answer.getVersion().toString(), top1 == label);
        }
        return new Baseline(answer.getOutputs(), top1, label);
      }
      BatchResult.Outcome b = run.outcomes().get(i);
      if (!b.isOk()) {
        perVersion.get(o.baselineVersion()).failed();
        failures.add(source, id, o.baselineVersion().toString(), b.error());
        return new Baseline(null, -1, label);
      }
      return new Baseline(b.outputs(), ShadowComparator.top1(b.outputs()), label);
    }

    private void candidate(ModelVersion version, PairStats pair, BatchResult.Outcome c, Baseline base,
        ConsumerRecord<byte[], byte[]> source, String id) throws java.io.IOException {
      if (!c.isOk()) {
        pair.candidateFailed();
        perVersion.get(version).failed();
        failures.add(source, id, version.toString(), c.error());
        return;
      }
      if (base.outputs() == null) {
        pair.missingBaseline();
        return;
      }
      ShadowComparator.Comparison compared = ShadowComparator.compare(base.outputs(), c.outputs());
      int top1 = ShadowComparator.top1(c.outputs());
      boolean disagree = base.top1() >= 0 && top1 >= 0
          ? pair.record(source.timestamp(), compared.maxAbsDiff(), base.top1(), top1, compared.cosine(), base.label())
          : pair.record(source.timestamp(), compared.maxAbsDiff(), compared.top1Agree(), compared.cosine());
      if (disagree) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("id", id);
        line.put("candidate", version.toString());
        line.put("baseline", pair.baseline());
        line.put("partition", source.partition());
        line.put("offset", source.offset());
        line.put("timestamp", source.timestamp());
        line.put("maxAbsDiff", compared.maxAbsDiff());
        line.put("cosine", compared.cosine());
        line.put("baselineTop1", base.top1());
        line.put("candidateTop1", top1);
        disagreements.write(JSON.writeValueAsString(line));
        disagreements.newLine();
      }
    }

    private Report report(TopicRange range, long started, Object recordedReport) {
      Map<String, Object> versions = new LinkedHashMap<>();
      perVersion.forEach((v, st) -> versions.put(v.toString(), st.toReport()));
      Report report = new Report("replay", stopRequested ? "stopped before the end of the range (Ctrl-C)" : null,
          (System.currentTimeMillis() - started) / 1000.0, pairs.values().stream().map(PairStats::summary).toList())
          .with("source", source(range, read))
          .with("counts", Map.of("requests", requests, "otherModels", otherModels, "undecodable", undecodable,
              "labels", labels.size(), "labelsMalformed", labelsMalformed))
          .with("versions", versions)
          .with("failures", failures.toReport());
      if (!ab.isEmpty()) {
        report.with("abTest", ab.summary());
      }
      if (recordedReport != null) {
        report.with("recordedPredictions", recordedReport);
      }
      return report;
    }
  }

  /** A request's baseline answer: outputs (null = none to compare with), its top-1 class (-1 = none), the label. */
  private record Baseline(List<Tensor> outputs, int top1, Integer label) {}

  private InferenceResponse sandboxAnswer(InferenceRequest request, ModelVersion version, BatchResult.Outcome c,
      long requestTimestamp, BatchResult batch) {
    return InferenceResponse.newBuilder().setId(request.getId()).setModel(request.getModel())
        .setVersion(version.version()).setVariant("REPLAY").setStatus(c.isOk() ? Status.OK : Status.ERROR)
        .setError(c.error()).setOutputs(c.outputs())
        .setTimings(Timings.newBuilder().setRequestTimestamp(Instant.ofEpochMilli(requestTimestamp))
            .setQueueWaitMicros(0).setInferenceMicros(batch.engineNanos() / 1000)
            .setBatchSize(batch.outcomes().size()).build())
        .setWorker("ops-replay").build();
  }

  private KafkaProducer<byte[], InferenceResponse> sandboxProducer() {
    if (o.sandboxTopic() == null) {
      return null;
    }
    Map<String, Object> config = new HashMap<>(o.client());
    // One transaction per chunk: a crash leaves either all of a chunk's answers or none (read_committed).
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "kinfer-replay-" + UUID.randomUUID());
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    KafkaProducer<byte[], InferenceResponse> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
        Topics.answersSpec(o.sandboxTopic()).valueSerializer(o.registry()));
    producer.initTransactions();
    return producer;
  }

  private static Map<String, Object> source(TopicRange range, long read) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("topic", range.topic());
    s.put("from", range.from() == null ? null : range.from().toString());
    s.put("to", range.to() == null ? null : range.to().toString());
    s.put("records", range.size());
    s.put("read", read);
    s.put("partitions", range.parts().stream().map(p -> Map.of("partition", p.partition().partition(),
        "start", p.start(), "end", p.end())).toList());
    return s;
  }
}

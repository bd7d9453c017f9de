package io.kinfer.ops.replay;

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
import io.kinfer.schemas.serde.AvroWireSerializer;
import io.kinfer.topology.ModelVersion;
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
  @SuppressWarnings({"checkstyle:CyclomaticComplexity", "checkstyle:MethodLength"}) // over the limit before the guardrail: to split (issue 14)
  public Report run() throws Exception {
    Files.createDirectories(o.out());
    String model = o.candidates().get(0).model();
    List<ModelVersion> versions = new ArrayList<>();
    if (o.baselineVersion() != null) {
      versions.add(o.baselineVersion());
    }
    versions.addAll(o.candidates());
    String baselineName = o.baselineVersion() == null ? RECORDED : o.baselineVersion().toString();
    Map<ModelVersion, PairStats> pairs = new LinkedHashMap<>();
    Map<ModelVersion, VersionStats> perVersion = new LinkedHashMap<>();
    for (ModelVersion v : versions) {
      perVersion.put(v, new VersionStats());
    }
    for (ModelVersion c : o.candidates()) {
      pairs.put(c, new PairStats(baselineName, c.toString(), o.tolerance()));
    }
    AbOutcome ab = new AbOutcome();
    long[] counts = new long[4]; // requests, skipped (other models), undecodable, labels malformed
    long started = System.currentTimeMillis();
    AvroWireDeserializer<InferenceRequest> requests = new AvroWireDeserializer<>(o.registry(),
        InferenceRequest.getClassSchema());
    Object recordedReport = null;
    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu());
        RangeReader reader = new RangeReader(o.client(), Math.max(o.batchSize(), 500));
        BufferedWriter disagreements = Files.newBufferedWriter(o.out().resolve("disagreements.jsonl"));
        FailureLog failures = new FailureLog(o.out().resolve("failures.jsonl"));
        KafkaProducer<byte[], InferenceResponse> sandbox = sandboxProducer()) {
      ModelRepository repository = new ModelRepository(o.models(), 1L << 31);
      for (ModelVersion v : versions) {
        engine.load(repository.load(v));
      }
      Map<String, Integer> labels = Map.of();
      if (o.labelsTopic() != null) {
        long[] malformed = new long[1];
        labels = Labels.read(reader, TopicRange.resolve(reader.consumer(), o.labelsTopic(), null, null, null, null),
            o.maxLabels(), malformed);
        counts[3] = malformed[0];
      }
      TopicRange range = TopicRange.resolve(reader.consumer(), o.requestsTopic(), o.from(), o.to(), o.fromOffset(),
          o.toOffset());
      RecordedPredictions recorded = null;
      if (o.baselineVersion() == null) {
        recorded = new RecordedPredictions(o.client(), o.registry(), o.predictionsTopic(), o.answerDelay(), 200_000);
        recorded.open(o.from() != null ? o.from().toEpochMilli() : reader.firstTimestamp(range));
      }
      Progress progress = new Progress(o.progress(), "replay " + o.requestsTopic(), range.size());
      long[] done = new long[1];
      final Map<String, Integer> truth = labels;
      final RecordedPredictions baseline = recorded;
      try {
        reader.read(range, () -> stopRequested, chunk -> {
          List<InferenceRequest> batch = new ArrayList<>();
          List<ConsumerRecord<byte[], byte[]>> sources = new ArrayList<>();
          for (ConsumerRecord<byte[], byte[]> r : chunk) {
            InferenceRequest request;
            try {
              request = requests.deserialize(o.requestsTopic(), r.value());
            } catch (RuntimeException e) {
              counts[2]++;
              failures.add(r, null, "decode", e.getMessage());
              continue;
            }
            if (request == null) {
              counts[2]++;
              failures.add(r, null, "decode", "record without a value (tombstone)");
              continue;
            }
            if (!request.getModel().toString().equals(model)) {
              counts[1]++;
              continue;
            }
            counts[0]++;
            batch.add(request);
            sources.add(r);
          }
          if (baseline != null && !sources.isEmpty()) {
            baseline.advanceTo(sources.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow());
          }
          if (sandbox != null) {
            sandbox.beginTransaction();
          }
          for (int from = 0; from < batch.size(); from += o.batchSize()) {
            int to = Math.min(batch.size(), from + o.batchSize());
            compare(engine, batch.subList(from, to), sources.subList(from, to), baseline, perVersion, pairs, truth, ab,
                disagreements, failures, sandbox);
          }
          if (sandbox != null) {
            sandbox.commitTransaction();
          }
          done[0] += chunk.size();
          progress.update(done[0], false);
        });
      } finally {
        progress.update(done[0], true);
        if (recorded != null) {
          recordedReport = recorded.toReport();
          recorded.close();
        }
      }
      Map<String, Object> versionReport = new LinkedHashMap<>();
      perVersion.forEach((v, st) -> versionReport.put(v.toString(), st.toReport()));
      Report report = new Report("replay", stopRequested ? "stopped before the end of the range (Ctrl-C)" : null,
          (System.currentTimeMillis() - started) / 1000.0, pairs.values().stream().map(PairStats::summary).toList())
          .with("source", source(range, done[0]))
          .with("counts", Map.of("requests", counts[0], "otherModels", counts[1], "undecodable", counts[2],
              "labels", labels.size(), "labelsMalformed", counts[3]))
          .with("versions", versionReport)
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

  @SuppressWarnings({"checkstyle:CyclomaticComplexity", "checkstyle:MethodLength"}) // over the limit before the guardrail: to split (issue 14)
  private void compare(OnnxEngine engine, List<InferenceRequest> batch, List<ConsumerRecord<byte[], byte[]>> sources,
      RecordedPredictions recorded, Map<ModelVersion, VersionStats> perVersion, Map<ModelVersion, PairStats> pairs,
      Map<String, Integer> labels, AbOutcome ab, BufferedWriter disagreements, FailureLog failures,
      KafkaProducer<byte[], InferenceResponse> sandbox) throws Exception {
    Map<ModelVersion, BatchResult> results = new HashMap<>();
    for (ModelVersion v : perVersion.keySet()) {
      BatchResult result;
      try {
        result = engine.infer(v, batch);
      } catch (RuntimeException e) {
        List<BatchResult.Outcome> failed = new ArrayList<>();
        batch.forEach(r -> failed.add(BatchResult.Outcome.engineFailed("engine: " + e.getMessage())));
        result = new BatchResult(failed, 0);
      }
      perVersion.get(v).batch(batch.size(), result.engineNanos());
      results.put(v, result);
    }
    for (int i = 0; i < batch.size(); i++) {
      InferenceRequest request = batch.get(i);
      ConsumerRecord<byte[], byte[]> source = sources.get(i);
      String id = request.getId().toString();
      Integer label = labels.get(id);
      List<Tensor> base = null;
      int top1Base = -1;
      if (recorded != null) {
        InferenceResponse answer = recorded.take(id);
        if (answer != null && answer.getStatus() == Status.OK) {
          base = answer.getOutputs();
          top1Base = ShadowComparator.top1(base);
          if (label != null && answer.getVersion() != null) {
            ab.record(answer.getVersion().toString(), top1Base == label);
          }
        }
      } else {
        BatchResult.Outcome b = results.get(o.baselineVersion()).outcomes().get(i);
        if (b.isOk()) {
          base = b.outputs();
          top1Base = ShadowComparator.top1(base);
        } else {
          perVersion.get(o.baselineVersion()).failed();
          failures.add(source, id, o.baselineVersion().toString(), b.error());
        }
      }
      for (Map.Entry<ModelVersion, PairStats> e : pairs.entrySet()) {
        BatchResult.Outcome c = results.get(e.getKey()).outcomes().get(i);
        PairStats pair = e.getValue();
        if (sandbox != null) {
          sandbox.send(new ProducerRecord<>(o.sandboxTopic(), source.key(), sandboxAnswer(request, e.getKey(), c,
              source.timestamp(), results.get(e.getKey()))));
        }
        if (!c.isOk()) {
          pair.candidateFailed();
          perVersion.get(e.getKey()).failed();
          failures.add(source, id, e.getKey().toString(), c.error());
          continue;
        }
        if (base == null) {
          pair.missingBaseline();
          continue;
        }
        ShadowComparator.Comparison compared = ShadowComparator.compare(base, c.outputs());
        double diff = compared.maxAbsDiff();
        int top1Cand = ShadowComparator.top1(c.outputs());
        boolean disagree = top1Base >= 0 && top1Cand >= 0
            ? pair.record(source.timestamp(), diff, top1Base, top1Cand, compared.cosine(), label)
            : pair.record(source.timestamp(), diff, compared.top1Agree(), compared.cosine());
        if (disagree) {
          Map<String, Object> line = new LinkedHashMap<>();
          line.put("id", id);
          line.put("candidate", e.getKey().toString());
          line.put("baseline", pair.baseline());
          line.put("partition", source.partition());
          line.put("offset", source.offset());
          line.put("timestamp", source.timestamp());
          line.put("maxAbsDiff", diff);
          line.put("cosine", compared.cosine());
          line.put("baselineTop1", top1Base);
          line.put("candidateTop1", top1Cand);
          disagreements.write(JSON.writeValueAsString(line));
          disagreements.newLine();
        }
      }
    }
  }

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
        new AvroWireSerializer<>(o.registry(), InferenceResponse.getClassSchema(), false));
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

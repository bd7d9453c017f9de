package io.kinfer.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.models.ShapeModels;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JitWarmUpTest {
  @TempDir static Path models;
  static OnnxEngine engine;

  /** Fixed rows, several datatypes, a ZipMap classifier, sequences padded together, lengths not padded. */
  @BeforeAll
  static void load() throws Exception {
    SampleModels.writeMlp(models, "1", 0);
    ShapeModels.writeAll(models);
    ModelRepository repository = new ModelRepository(models, 1 << 30);
    engine = new OnnxEngine(EngineOptions.cpu());
    engine.load(repository.load(new ModelVersion(SampleModels.MLP, "1")));
    for (String name : List.of(ShapeModels.TYPES, ShapeModels.ZIPMAP, ShapeModels.SEQ, ShapeModels.FIXEDLEN)) {
      engine.load(repository.load(new ModelVersion(name, ShapeModels.VERSION)));
    }
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  @Test
  void shouldRunValidBatchesOfEveryLoadedVersionThroughTheRequestPathForTheBudget() {
    long start = System.nanoTime();
    JitWarmUp.Report report = JitWarmUp.run(engine, Duration.ofMillis(500), "w");

    assertThat(report.failed()).as("synthetic requests the engine refused").isZero();
    // Every version ran several batches, of more than one row.
    assertThat(report.batches().keySet()).containsExactlyInAnyOrderElementsOf(engine.loaded());
    assertThat(report.batches().values()).allSatisfy(batches -> assertThat(batches).isGreaterThan(3));
    assertThat(report.requests()).isGreaterThan(report.totalBatches());
    assertThat(report.millis()).isGreaterThanOrEqualTo(500);
    // A fifth of the budget is 0.1 s: what ran in the first and the last fifth is part of the whole
    // (the first may be nothing: a cold JVM can spend 0.1 s on its first batches).
    assertThat(report.warmPerSecond()).isPositive();
    assertThat((report.coldPerSecond() + report.warmPerSecond()) * 0.1).isBetween(0.0, report.requests() + 0.5);
    assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(report.millis());
  }

  @Test
  void shouldRunNothingWithoutABudget() {
    assertThat(JitWarmUp.run(engine, Duration.ZERO, "w").totalBatches()).isZero();
  }
}

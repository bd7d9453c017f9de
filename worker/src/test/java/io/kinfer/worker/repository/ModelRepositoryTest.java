package io.kinfer.worker.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.topology.ModelVersion;
import io.kinfer.worker.models.SampleModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
  @TempDir Path root;

  @Test
  void shouldListAndVerifyGeneratedModels() throws Exception {
    SampleModels.writeAll(root);
    ModelRepository repository = new ModelRepository(root, 1 << 30);
    assertThat(repository.list()).containsExactly(new ModelVersion("mlp", "1"),
        new ModelVersion("mlp", SampleModels.MLP_INT8_VERSION), new ModelVersion("mlp", "2"));
    for (ModelVersion v : repository.list()) {
      assertThat(repository.load(v).onnx()).as("%s loads with its checksum", v).isNotEmpty();
    }
  }

  @Test
  void shouldGenerateIdenticalBytesEveryTime(@TempDir Path other) throws Exception {
    SampleModels.writeAll(root);
    SampleModels.writeAll(other);
    assertThat(Files.readAllBytes(root.resolve("mlp/2/model.onnx")))
        .isEqualTo(Files.readAllBytes(other.resolve("mlp/2/model.onnx")));
  }

  @Test
  void shouldRefuseSha256Mismatch() throws Exception {
    SampleModels.writeAll(root);
    Path onnx = root.resolve("mlp/1/model.onnx");
    byte[] bytes = Files.readAllBytes(onnx);
    bytes[bytes.length - 1] ^= 1;
    Files.write(onnx, bytes);
    assertThatThrownBy(() -> new ModelRepository(root, 1 << 30).load(new ModelVersion("mlp", "1")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("sha256 mismatch");
  }

  @Test
  void shouldRefuseNamesThatEscapeTheRepository() {
    ModelRepository repository = new ModelRepository(root, 1 << 30);
    for (String bad : new String[] {"..", "../etc", "/etc", "a/../../b"}) {
      assertThatThrownBy(() -> repository.load(new ModelVersion(bad, "1")))
          .isInstanceOf(ModelLoadException.class).hasMessageContaining("Illegal model name");
    }
  }

  @Test
  void shouldRefuseSymlinkOutOfTheRepository(@TempDir Path outside) throws Exception {
    SampleModels.writeAll(outside);
    Files.createDirectories(root.resolve("evil"));
    Files.createSymbolicLink(root.resolve("evil/1"), outside.resolve("mlp/1"));
    assertThatThrownBy(() -> new ModelRepository(root, 1 << 30).load(new ModelVersion("evil", "1")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("outside the model repository");
  }

  @Test
  void shouldRefuseModelsWithExternalDataPaths() throws Exception {
    byte[] onnx = new io.kinfer.worker.models.OnnxGraphWriter("evil").input("input", 2)
        .externalInitializer("W", new long[] {2, 2}, "../../../etc/passwd")
        .node("MatMul", java.util.List.of("input", "W"), "out", null, null).output("out", 2).toByteArray();
    Path dir = root.resolve("evil/1");
    Files.createDirectories(dir);
    Files.write(dir.resolve("model.onnx"), onnx);
    Files.writeString(dir.resolve("model.json"), """
        {"name": "evil", "version": "1", "max_batch_size": 8,
         "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 2]}],
         "outputs": [{"name": "out", "datatype": "FP32", "shape": [-1, 2]}],
         "sha256": "%s"}""".formatted(Sha256.hex(onnx)));

    assertThatThrownBy(() -> new ModelRepository(root, 1 << 20).load(new ModelVersion("evil", "1")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("external data [../../../etc/passwd]");
  }

  @Test
  void shouldFindNoExternalDataInTheSampleModels() throws Exception {
    SampleModels.writeAll(root);
    assertThat(OnnxExternalData.locations(Files.readAllBytes(root.resolve("mlp/1/model.onnx")))).isEmpty();
  }

  @Test
  void shouldRefuseOversizedModelBeforeReading() throws Exception {
    SampleModels.writeAll(root);
    assertThatThrownBy(() -> new ModelRepository(root, 1000).load(new ModelVersion("mlp", "1")))
        .isInstanceOf(ModelLoadException.class).hasMessageContaining("over the limit");
  }
}

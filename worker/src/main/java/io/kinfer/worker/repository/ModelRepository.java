package io.kinfer.worker.repository;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.topology.ModelVersion;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A Triton-style model repository on disk: {@code <root>/<name>/<version>/model.onnx} with {@code
 * model.json}. Every path is confined to the root (no {@code ..}, no absolute names, no symlink out
 * of it), the file size is bounded before reading, and the sha256 in model.json is checked against
 * the very bytes that will be loaded (no check-then-reopen race).
 */
public final class ModelRepository {
  public static final String MODEL_FILE = "model.onnx";
  public static final String CONFIG_FILE = "model.json";
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Large vocabularies (e.g. 250k-token multilingual ones) stay well below this. */
  public static final long MAX_TOKENIZER_BYTES = 64L << 20;
  /** A classifier's class names, one per line: ample for tens of thousands of classes. */
  public static final long MAX_LABELS_BYTES = 4L << 20;

  private final Path root;
  private final long maxModelBytes;

  public ModelRepository(Path root, long maxModelBytes) {
    try {
      this.root = root.toRealPath();
    } catch (IOException e) {
      throw new ModelLoadException("Model repository " + root.toAbsolutePath()
          + " does not exist: set model.repository to a directory of <name>/<version>/model.onnx", e);
    }
    this.maxModelBytes = maxModelBytes;
  }

  public Path root() {
    return root;
  }

  /** Every version that has a model.json, sorted. */
  public List<ModelVersion> list() {
    List<ModelVersion> found = new ArrayList<>();
    try (DirectoryStream<Path> models = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path model : models) {
        try (DirectoryStream<Path> versions = Files.newDirectoryStream(model, Files::isDirectory)) {
          for (Path version : versions) {
            if (Files.exists(version.resolve(CONFIG_FILE))) {
              found.add(new ModelVersion(model.getFileName().toString(), version.getFileName().toString()));
            }
          }
        }
      }
    } catch (IOException e) {
      throw new ModelLoadException("Cannot list model repository " + root + ": " + e.getMessage(), e);
    }
    found.sort((a, b) -> a.toString().compareTo(b.toString()));
    return found;
  }

  /** Reads, confines and verifies one version; the returned bytes are what passed the check. */
  public VerifiedModel load(ModelVersion version) {
    Path dir = confined(version);
    ModelConfig config;
    try {
      config = JSON.readValue(confinedFile(dir, CONFIG_FILE).toFile(), ModelConfig.class);
    } catch (IOException e) {
      throw new ModelLoadException("Unreadable " + CONFIG_FILE + " for " + version + ": " + e.getMessage(), e);
    }
    if (config.sha256() == null || config.sha256().isBlank()) {
      throw new ModelLoadException(version + ": model.json has no sha256; refusing an unverified model");
    }
    Path file = confinedFile(dir, MODEL_FILE);
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > maxModelBytes) {
        throw new ModelLoadException(version + ": model.onnx is " + size + " bytes, over the limit of "
            + maxModelBytes + " (raise model.max.bytes if this is intended)");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelLoadException("Cannot read " + file + ": " + e.getMessage(), e);
    }
    String actual = Sha256.hex(bytes);
    if (!actual.equalsIgnoreCase(config.sha256())) {
      throw new ModelLoadException(version + ": sha256 mismatch, model.json says " + config.sha256()
          + " but model.onnx is " + actual + "; the file was changed or corrupted");
    }
    List<String> external = OnnxExternalData.locations(bytes);
    if (!external.isEmpty()) {
      // Loaded from bytes, ONNX Runtime would resolve these against the working directory, outside
      // the repository and outside the sha256 check.
      throw new ModelLoadException(version + ": model.onnx references external data " + external
          + "; external weights are refused (they escape the sha256 check and the repository): save the"
          + " model with its weights inside model.onnx");
    }
    ModelConfig.TextSpec text = config.text();
    byte[] tokenizer = text == null ? null
        : sidecar(version, dir, "tokenizer", text.tokenizer(), text.tokenizerSha256(), MAX_TOKENIZER_BYTES);
    byte[] labels = text == null || !text.classifier() ? null
        : sidecar(version, dir, "labels", text.labels(), text.labelsSha256(), MAX_LABELS_BYTES);
    return new VerifiedModel(version, config, bytes, tokenizer, labels);
  }

  /**
   * A text model's file beside model.onnx (tokenizer.json, labels.txt): a plain name inside the
   * version directory, bounded, its sha256 checked like the model's.
   */
  private byte[] sidecar(ModelVersion version, Path dir, String what, String name, String sha256, long maxBytes) {
    if (name == null || !SAFE_NAME.matcher(name).matches() || name.contains("..")) {
      throw new ModelLoadException(version + ": model.json text." + what + " must name a file in the version"
          + " directory (letters, digits, '.', '_' and '-'), got '" + name + "'");
    }
    if (sha256 == null || sha256.isBlank()) {
      throw new ModelLoadException(version + ": model.json text has no " + what + "_sha256; refusing an unverified "
          + what + " file");
    }
    Path file = confinedFile(dir, name);
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > maxBytes) {
        throw new ModelLoadException(version + ": " + name + " is " + size + " bytes, over the limit of " + maxBytes
            + " for a " + what + " file");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelLoadException("Cannot read " + file + ": " + e.getMessage(), e);
    }
    String actual = Sha256.hex(bytes);
    if (!actual.equalsIgnoreCase(sha256)) {
      throw new ModelLoadException(version + ": " + what + " sha256 mismatch, model.json says " + sha256 + " but "
          + name + " is " + actual + "; the file was changed or corrupted");
    }
    return bytes;
  }

  private Path confined(ModelVersion version) {
    checkNames(version);
    Path dir = root.resolve(version.model()).resolve(version.version());
    if (!Files.isDirectory(dir)) {
      throw new ModelLoadException("Model " + version + " not found: no directory " + dir);
    }
    return checkInside(dir);
  }

  /** Model names and versions become directory names: letters, digits, '.', '_' and '-', no '..'. */
  public static void checkNames(ModelVersion version) {
    for (String part : List.of(version.model(), version.version())) {
      if (!SAFE_NAME.matcher(part).matches() || part.contains("..")) {
        throw new ModelLoadException("Illegal model name or version '" + part
            + "': letters, digits, '.', '_' and '-' only, no '..'");
      }
    }
  }

  private Path confinedFile(Path dir, String name) {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      throw new ModelLoadException("Missing " + file);
    }
    return checkInside(file);
  }

  private Path checkInside(Path path) {
    try {
      Path real = path.toRealPath();
      if (!real.startsWith(root)) {
        throw new ModelLoadException(path + " resolves to " + real + ", outside the model repository " + root);
      }
      return real;
    } catch (IOException e) {
      throw new ModelLoadException("Cannot resolve " + path + ": " + e.getMessage(), e);
    }
  }

  /** A model whose bytes (and a text model's tokenizer.json and a classifier's labels) matched their sha256. */
  public record VerifiedModel(ModelVersion version, ModelConfig config, byte[] onnx, byte[] tokenizer, byte[] labels) {
    public VerifiedModel(ModelVersion version, ModelConfig config, byte[] onnx) {
      this(version, config, onnx, null, null);
    }
  }
}

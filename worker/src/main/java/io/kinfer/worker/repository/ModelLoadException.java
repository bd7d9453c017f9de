package io.kinfer.worker.repository;

/** A model version that must not serve: missing, outside the repository, bad sha256, or corrupt. */
public class ModelLoadException extends RuntimeException {
  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}

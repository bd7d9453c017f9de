package io.kinfer.topology;

/** One servable version of one model; the unit a batch is formed for. */
public record ModelVersion(String model, String version) {
  @Override
  public String toString() {
    return model + ":" + version;
  }
}

package io.kinfer.topology.infer;

import io.kinfer.schemas.Tensor;
import java.util.List;

/**
 * The outcome of one batch, one entry per request in the order given.
 *
 * @param engineNanos time the engine spent on the batch
 */
public record BatchResult(List<Outcome> outcomes, long engineNanos) {

  /** Either outputs (success) or an error message. */
  public record Outcome(List<Tensor> outputs, String error) {
    public static Outcome ok(List<Tensor> outputs) {
      return new Outcome(outputs, null);
    }

    public static Outcome failed(String error) {
      return new Outcome(List.of(), error);
    }

    public boolean isOk() {
      return error == null;
    }
  }
}

package io.kinfer.topology.infer;

import io.kinfer.schemas.Tensor;
import java.util.List;

/**
 * The outcome of one batch, one entry per request in the order given.
 *
 * @param engineNanos time the engine spent on the batch
 */
public record BatchResult(List<Outcome> outcomes, long engineNanos) {

  /** Why a request got no outputs. */
  public enum Failure {
    /** It does not fit the model (shape, datatype, bounds): nothing is wrong with the engine. */
    INVALID_REQUEST,
    /** The engine threw while running it. */
    ENGINE
  }

  /** Either outputs (success) or an error message and its kind. */
  public record Outcome(List<Tensor> outputs, String error, Failure failure) {
    public static Outcome ok(List<Tensor> outputs) {
      return new Outcome(outputs, null, null);
    }

    /** The request does not fit the model. */
    public static Outcome failed(String error) {
      return new Outcome(List.of(), error, Failure.INVALID_REQUEST);
    }

    public static Outcome engineFailed(String error) {
      return new Outcome(List.of(), error, Failure.ENGINE);
    }

    public boolean isOk() {
      return error == null;
    }
  }
}

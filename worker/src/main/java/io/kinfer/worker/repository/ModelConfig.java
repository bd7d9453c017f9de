package io.kinfer.worker.repository;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A version's {@code model.json}, Triton-style: what the model takes and returns, its largest batch,
 * and the sha256 of {@code model.onnx} that must match before it is loaded.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelConfig(
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("max_batch_size") int maxBatchSize,
    @JsonProperty("inputs") List<TensorSpec> inputs,
    @JsonProperty("outputs") List<TensorSpec> outputs,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("description") String description) {

  /**
   * One input or output; {@code shape} includes the batch dimension as -1 (e.g. [-1, 32]). NaN and
   * Infinity are refused in floating-point inputs unless {@code allow_non_finite} is true.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record TensorSpec(
      @JsonProperty("name") String name,
      @JsonProperty("datatype") String datatype,
      @JsonProperty("shape") List<Long> shape,
      @JsonProperty("allow_non_finite") boolean allowNonFinite) {

    public TensorSpec(String name, String datatype, List<Long> shape) {
      this(name, datatype, shape, false);
    }

    /** Elements in one row: the product of the non-batch dimensions. */
    public long rowElements() {
      long n = 1;
      for (int i = 1; i < shape.size(); i++) {
        n *= shape.get(i);
      }
      return n;
    }
  }
}

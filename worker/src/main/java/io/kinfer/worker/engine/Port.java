package io.kinfer.worker.engine;

import io.kinfer.worker.repository.ModelConfig.Dim;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import java.util.List;

/**
 * An input or output of a loaded version: its type, its dimensions (the batch first) and how it is
 * padded. {@code classes} is set for a probability output the model returns as a ZipMap.
 */
record Port(String name, TensorType type, List<Dim> dims, byte[] pad, boolean paddable, boolean allowNonFinite,
    List<String> classes) {

  static Port of(TensorSpec spec) {
    TensorType type = TensorType.of(spec.datatype());
    return new Port(spec.name(), type, spec.shape(), type.encode(spec.padValue()), spec.paddingAllowed(),
        spec.nonFiniteAllowed(), spec.classes());
  }

  int rank() {
    return dims.size();
  }

  boolean isZipMap() {
    return classes != null;
  }

  /** True when every dimension but the batch is fixed: every request has the same row shape. */
  boolean fixedRow() {
    for (int i = 1; i < dims.size(); i++) {
      if (!dims.get(i).isFixed()) {
        return false;
      }
    }
    return true;
  }

  /** The shape of one row ([1, ...]) when {@link #fixedRow()}. */
  long[] rowShape() {
    long[] shape = new long[dims.size()];
    shape[0] = 1;
    for (int i = 1; i < shape.length; i++) {
      shape[i] = dims.get(i).size();
    }
    return shape;
  }

  String describe() {
    return "'" + name + "' " + type.datatype + " " + dims;
  }
}

package io.kinfer.worker.engine;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import io.kinfer.worker.engine.LoadedModel.Port;
import io.kinfer.worker.repository.ModelConfig;
import java.util.List;

/** Checks one request against a model's inputs before anything is allocated for it. */
final class RequestValidation {
  private RequestValidation() {}

  /** @return null when the request fits, else a message saying what was expected */
  static String check(InferenceRequest request, List<Port> inputs, ModelConfig config, long maxTensorElements) {
    for (Port port : inputs) {
      Tensor t = LoadedModel.find(request, port.name());
      String model = config.name() + ":" + config.version();
      if (t == null) {
        return "Missing input '" + port.name() + "' for " + model + "; expected inputs "
            + inputs.stream().map(Port::describe).toList() + ", got "
            + request.getInputs().stream().map(Tensor::getName).toList();
      }
      if (t.getDatatype() != port.type().datatype) {
        return "Input '" + port.name() + "' of " + model + " must be " + port.type().datatype
            + ", got " + t.getDatatype();
      }
      long elements = 1;
      try {
        for (long d : t.getShape()) {
          if (d < 0) {
            return "Input '" + port.name() + "' has a negative dimension in shape " + t.getShape();
          }
          elements = Math.multiplyExact(elements, d);
        }
      } catch (ArithmeticException e) {
        elements = Long.MAX_VALUE;
      }
      if (elements > maxTensorElements) {
        return "Input '" + port.name() + "' of shape " + t.getShape() + " has " + (elements == Long.MAX_VALUE
            ? "more than 2^63" : elements) + " elements, over max.tensor.elements=" + maxTensorElements;
      }
      if (elements != port.rowElements()) {
        return "Input '" + port.name() + "' of " + model + " expects one row of shape " + port.rowShape()
            + " (" + port.rowElements() + " elements), got shape " + t.getShape();
      }
      long count = contentCount(t, port.type());
      if (count != elements) {
        return "Input '" + port.name() + "' declares " + elements + " elements but carries " + count
            + (t.getRaw() != null ? " (" + t.getRaw().remaining() + " raw bytes)" : "");
      }
      if (!port.allowNonFinite()) {
        int bad = firstNonFinite(t, port.type());
        if (bad >= 0) {
          return "Input '" + port.name() + "' of " + model + " holds NaN or Infinity at element " + bad
              + "; this model refuses non-finite values (allow_non_finite in model.json)";
        }
      }
    }
    return null;
  }

  /** Index of the first NaN or infinite value of a floating-point tensor, or -1. */
  private static int firstNonFinite(Tensor t, TensorType type) {
    if (type != TensorType.FP32 && type != TensorType.FP64) {
      return -1;
    }
    if (t.getRaw() != null) {
      java.nio.ByteBuffer raw = t.getRaw().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; raw.remaining() >= type.bytes; i++) {
        double v = type == TensorType.FP32 ? raw.getFloat() : raw.getDouble();
        if (!Double.isFinite(v)) {
          return i;
        }
      }
      return -1;
    }
    List<? extends Number> values = type == TensorType.FP32 ? t.getData().getFp32() : t.getData().getFp64();
    for (int i = 0; i < values.size(); i++) {
      if (!Double.isFinite(values.get(i).doubleValue())) {
        return i;
      }
    }
    return -1;
  }

  private static long contentCount(Tensor t, TensorType type) {
    if (t.getRaw() != null) {
      int bytes = t.getRaw().remaining();
      return bytes % type.bytes == 0 ? bytes / type.bytes : -1;
    }
    TensorData data = t.getData();
    if (data == null) {
      return 0;
    }
    return switch (type) {
      case FP32 -> data.getFp32().size();
      case FP64 -> data.getFp64().size();
      case INT64 -> data.getInt64().size();
      case INT32, INT16, INT8, UINT8 -> data.getInt32().size();
      case BOOL -> data.getBool().size();
      case FP16 -> -1; // only raw bytes carry half floats
    };
  }
}

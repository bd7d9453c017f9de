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
  static String check(InferenceRequest request, List<Port> inputs, ModelConfig config) {
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
      for (long d : t.getShape()) {
        if (d < 0) {
          return "Input '" + port.name() + "' has a negative dimension in shape " + t.getShape();
        }
        elements = Math.multiplyExact(elements, d);
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
    }
    return null;
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

package io.kinfer.worker.engine;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.Dim;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks one request against a model's inputs before anything is allocated for it: rank, the one
 * row, fixed dimensions, symbolic dimensions (bounded by model.json's max_dims and equal across the
 * inputs that share a name), element count against max.tensor.elements, and content against shape.
 */
final class RequestValidation {
  private RequestValidation() {}

  /** Either the request's shape per input (in the model's input order) or what was wrong. */
  record Checked(long[][] shapes, String error) {
    static Checked failed(String error) {
      return new Checked(null, error);
    }

    boolean ok() {
      return error == null;
    }
  }

  static Checked check(InferenceRequest request, List<Port> inputs, ModelConfig config, long maxTensorElements) {
    String model = config.name() + ":" + config.version();
    long[][] shapes = new long[inputs.size()][];
    Map<String, Long> symbols = new HashMap<>();
    Map<String, String> symbolSource = new HashMap<>();
    for (int p = 0; p < inputs.size(); p++) {
      Port port = inputs.get(p);
      Tensor t = LoadedModel.find(request, port.name());
      if (t == null) {
        return Checked.failed("Missing input '" + port.name() + "' for " + model + "; expected inputs "
            + inputs.stream().map(Port::describe).toList() + ", got "
            + request.getInputs().stream().map(Tensor::getName).toList());
      }
      long[] rowShape = port.fixedRow() ? port.rowShape() : null;
      String error = checkInput(t, port, rowShape, model, config, symbols, symbolSource, maxTensorElements);
      if (error != null) {
        return Checked.failed(error);
      }
      shapes[p] = rowShape != null ? rowShape : t.getShape().stream().mapToLong(Long::longValue).toArray();
    }
    return new Checked(shapes, null);
  }

  /**
   * Type, shape, size bound, content count and values of one input, in that order; the first error or null.
   *
   * @param rowShape the one shape of every row when the port's dimensions beyond the batch are fixed, else null
   */
  private static String checkInput(Tensor t, Port port, long[] rowShape, String model, ModelConfig config,
      Map<String, Long> symbols, Map<String, String> symbolSource, long maxTensorElements) {
    if (t.getDatatype() != port.type().datatype) {
      return "Input '" + port.name() + "' of " + model + " must be " + port.type().datatype + ", got "
          + t.getDatatype();
    }
    long elements = elements(t.getShape());
    if (elements < 0) {
      return "Input '" + port.name() + "' has a negative dimension in shape " + t.getShape();
    }
    if (rowShape != null) {
      // Every row of such an input has one shape: any shape with its element count is taken as
      // that row, as before variable dimensions existed (producers send [32] or [1, 32]).
      if (elements != Blocks.elements(rowShape, 0) && elements <= maxTensorElements) {
        return "Input '" + port.name() + "' of " + model + " expects one row of shape " + Arrays.toString(rowShape)
            + " (" + Blocks.elements(rowShape, 0) + " elements), got shape " + t.getShape();
      }
    } else {
      String shapeError = checkShape(t, port, model, config, symbols, symbolSource);
      if (shapeError != null) {
        return shapeError;
      }
    }
    if (elements > maxTensorElements) {
      return "Input '" + port.name() + "' of shape " + t.getShape() + " has " + (elements == Long.MAX_VALUE
          ? "more than 2^63" : elements) + " elements, over max.tensor.elements=" + maxTensorElements;
    }
    long count = contentCount(t, port.type());
    if (count != elements) {
      return "Input '" + port.name() + "' of shape " + t.getShape() + " declares " + elements
          + " elements but carries " + count + (t.getRaw() != null ? " (" + t.getRaw().remaining()
          + " raw bytes of " + port.type().datatype + ")" : "");
    }
    return checkValues(t, port, model);
  }

  /** The product of the dimensions; -1 if one is negative, {@link Long#MAX_VALUE} on overflow. */
  private static long elements(List<Long> shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      n = n > 0 && d > Long.MAX_VALUE / n ? Long.MAX_VALUE : n * d;
    }
    return n;
  }

  private static String checkShape(Tensor t, Port port, String model, ModelConfig config, Map<String, Long> symbols,
      Map<String, String> symbolSource) {
    List<Long> shape = t.getShape();
    String expected = "Input '" + port.name() + "' of " + model + " is declared " + port.dims();
    if (shape.size() != port.rank()) {
      return expected + " (rank " + port.rank() + "), got shape " + shape + " (rank " + shape.size() + ")";
    }
    if (shape.get(0) != 1) {
      return expected + ": a request carries one row, so its first dimension must be 1; got shape " + shape;
    }
    for (int i = 1; i < shape.size(); i++) {
      Dim dim = port.dims().get(i);
      long got = shape.get(i);
      if (dim.isFixed() && got != dim.size()) {
        return expected + ", got shape " + shape + " (dimension " + i + " must be " + dim.size() + ")";
      }
      if (!dim.isFixed() && got < 1) {
        return expected + ", got shape " + shape + " (dimension " + i + " must be at least 1)";
      }
      if (dim.symbol() != null) {
        long max = config.maxDim(dim.symbol());
        if (got > max) {
          return expected + ", got shape " + shape + ": " + dim.symbol() + "=" + got + " is over its limit of "
              + max + " (max_dims in model.json)";
        }
        Long seen = symbols.putIfAbsent(dim.symbol(), got);
        if (seen != null && seen != got) {
          return "Inputs of " + model + " disagree on " + dim.symbol() + ": '" + symbolSource.get(dim.symbol())
              + "' has " + seen + ", '" + port.name() + "' has " + got + " (shape " + shape + ")";
        }
        symbolSource.putIfAbsent(dim.symbol(), port.name());
      }
    }
    return null;
  }

  /** Non-finite floats (unless allowed) and typed integers outside their datatype's range. */
  private static String checkValues(Tensor t, Port port, String model) {
    TensorType type = port.type();
    if (!port.allowNonFinite()) {
      int bad = firstNonFinite(t, type);
      if (bad >= 0) {
        return "Input '" + port.name() + "' of " + model + " holds NaN or Infinity at element " + bad
            + "; this model refuses non-finite values (allow_non_finite in model.json)";
      }
    }
    if (t.getRaw() == null && (type == TensorType.INT8 || type == TensorType.UINT8 || type == TensorType.INT16)) {
      long min = type == TensorType.UINT8 ? 0 : type == TensorType.INT8 ? Byte.MIN_VALUE : Short.MIN_VALUE;
      long max = type == TensorType.UINT8 ? 255 : type == TensorType.INT8 ? Byte.MAX_VALUE : Short.MAX_VALUE;
      List<Integer> values = t.getData().getInt32();
      for (int i = 0; i < values.size(); i++) {
        if (values.get(i) < min || values.get(i) > max) {
          return "Input '" + port.name() + "' of " + model + " is " + type.datatype + " but element " + i + " is "
              + values.get(i) + " (range " + min + ".." + max + ")";
        }
      }
    }
    return null;
  }

  /** Index of the first NaN or infinite value of a floating-point tensor, or -1. */
  private static int firstNonFinite(Tensor t, TensorType type) {
    if (type != TensorType.FP32 && type != TensorType.FP64 && type != TensorType.FP16) {
      return -1;
    }
    if (t.getRaw() != null) {
      ByteBuffer raw = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; raw.remaining() >= type.bytes; i++) {
        double v = switch (type) {
          case FP32 -> raw.getFloat();
          case FP64 -> raw.getDouble();
          default -> ai.onnxruntime.platform.Fp16Conversions.fp16ToFloat(raw.getShort());
        };
        if (!Double.isFinite(v)) {
          return i;
        }
      }
      return -1;
    }
    List<? extends Number> values = type == TensorType.FP64 ? t.getData().getFp64() : t.getData().getFp32();
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
      case FP32, FP16 -> data.getFp32().size(); // OIP's typed form sends half floats as numbers
      case FP64 -> data.getFp64().size();
      case INT64 -> data.getInt64().size();
      case INT32, INT16, INT8, UINT8 -> data.getInt32().size();
      case BOOL -> data.getBool().size();
    };
  }
}

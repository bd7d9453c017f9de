package io.kinfer.worker.repository;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the external-data file references of an ONNX model (TensorProto.external_data "location"
 * entries of the graph's initializers), reading just enough of the protobuf wire format. A model is
 * loaded from verified bytes, so ONNX Runtime would resolve such paths against the working
 * directory: they are refused (see {@link ModelRepository}); weights must be inside model.onnx.
 */
final class OnnxExternalData {
  private static final int MODEL_GRAPH = 7;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int ENTRY_KEY = 1;
  private static final int ENTRY_VALUE = 2;

  private OnnxExternalData() {}

  /** Locations of external data; a tensor marked EXTERNAL without a location is reported as "". */
  static List<String> locations(byte[] model) {
    List<String> out = new ArrayList<>();
    for (Field graph : fields(model, 0, model.length)) {
      if (graph.number == MODEL_GRAPH && graph.wireType == 2) {
        for (Field init : fields(model, graph.start, graph.end)) {
          if (init.number == GRAPH_INITIALIZER && init.wireType == 2) {
            collect(model, init, out);
          }
        }
      }
    }
    return out;
  }

  private static void collect(byte[] b, Field tensor, List<String> out) {
    boolean external = false;
    String location = null;
    for (Field f : fields(b, tensor.start, tensor.end)) {
      if (f.number == TENSOR_DATA_LOCATION && f.wireType == 0 && f.value == 1) {
        external = true;
      } else if (f.number == TENSOR_EXTERNAL_DATA && f.wireType == 2) {
        String key = null;
        String value = null;
        for (Field e : fields(b, f.start, f.end)) {
          if (e.wireType == 2 && e.number == ENTRY_KEY) {
            key = new String(b, e.start, e.end - e.start, StandardCharsets.UTF_8);
          } else if (e.wireType == 2 && e.number == ENTRY_VALUE) {
            value = new String(b, e.start, e.end - e.start, StandardCharsets.UTF_8);
          }
        }
        if ("location".equals(key)) {
          location = value;
          external = true;
        }
      }
    }
    if (external) {
      out.add(location == null ? "" : location);
    }
  }

  /** One field: number, wire type, and either a varint value or the [start, end) of its bytes. */
  private record Field(int number, int wireType, long value, int start, int end) {}

  private static List<Field> fields(byte[] b, int from, int to) {
    List<Field> out = new ArrayList<>();
    int[] pos = {from};
    while (pos[0] < to) {
      long tag = varint(b, pos, to);
      int number = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (type) {
        case 0 -> out.add(new Field(number, type, varint(b, pos, to), 0, 0));
        case 1 -> pos[0] = skip(pos[0], 8, to);
        case 5 -> pos[0] = skip(pos[0], 4, to);
        case 2 -> {
          long len = varint(b, pos, to);
          int start = pos[0];
          pos[0] = skip(start, len, to);
          out.add(new Field(number, type, 0, start, pos[0]));
        }
        default -> throw new ModelLoadException("model.onnx is not a valid ONNX protobuf (wire type " + type + ")");
      }
    }
    return out;
  }

  private static int skip(int pos, long len, int to) {
    if (len < 0 || pos + len > to) {
      throw new ModelLoadException("model.onnx is truncated or not a valid ONNX protobuf");
    }
    return (int) (pos + len);
  }

  private static long varint(byte[] b, int[] pos, int to) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= to) {
        throw new ModelLoadException("model.onnx is truncated or not a valid ONNX protobuf");
      }
      byte x = b[pos[0]++];
      result |= (long) (x & 0x7F) << shift;
      if ((x & 0x80) == 0) {
        return result;
      }
    }
    throw new ModelLoadException("model.onnx holds a malformed varint");
  }
}

package io.kinfer.worker.engine;

import ai.onnxruntime.platform.Fp16Conversions;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Appends one validated request tensor to a batch buffer in native (little-endian) order. */
final class TensorWriter {
  private TensorWriter() {}

  static void write(Tensor tensor, TensorType type, ByteBuffer out) {
    ByteBuffer raw = tensor.getRaw();
    if (raw != null) {
      out.put(raw.duplicate()); // the fast path: a bulk copy, no per-element work
      return;
    }
    TensorData data = tensor.getData();
    switch (type) {
      case FP32 -> data.getFp32().forEach(out::putFloat);
      case FP64 -> data.getFp64().forEach(out::putDouble);
      case FP16 -> data.getFp32().forEach(v -> out.putShort(Fp16Conversions.floatToFp16(v)));
      case INT64 -> data.getInt64().forEach(out::putLong);
      case INT32 -> data.getInt32().forEach(out::putInt);
      case INT16 -> data.getInt32().forEach(v -> out.putShort(v.shortValue()));
      case INT8, UINT8 -> data.getInt32().forEach(v -> out.put(v.byteValue()));
      case BOOL -> data.getBool().forEach(v -> out.put((byte) (v ? 1 : 0)));
    }
  }

  /** The tensor's elements as little-endian bytes: its raw bytes, or its typed data encoded. */
  static ByteBuffer bytes(Tensor tensor, TensorType type, long elements) {
    if (tensor.getRaw() != null) {
      return tensor.getRaw().duplicate();
    }
    ByteBuffer out = ByteBuffer.allocate((int) (elements * type.bytes)).order(ByteOrder.LITTLE_ENDIAN);
    write(tensor, type, out);
    return out.flip();
  }
}

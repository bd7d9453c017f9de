package io.kinfer.worker.engine;

import ai.onnxruntime.OnnxJavaType;
import io.kinfer.schemas.Datatype;
import java.util.Arrays;

/** Maps Open Inference Protocol datatypes to ONNX Runtime's, with their element sizes. */
enum TensorType {
  FP32(Datatype.FP32, OnnxJavaType.FLOAT, 4),
  FP64(Datatype.FP64, OnnxJavaType.DOUBLE, 8),
  INT32(Datatype.INT32, OnnxJavaType.INT32, 4),
  INT64(Datatype.INT64, OnnxJavaType.INT64, 8),
  INT16(Datatype.INT16, OnnxJavaType.INT16, 2),
  INT8(Datatype.INT8, OnnxJavaType.INT8, 1),
  UINT8(Datatype.UINT8, OnnxJavaType.UINT8, 1),
  BOOL(Datatype.BOOL, OnnxJavaType.BOOL, 1),
  FP16(Datatype.FP16, OnnxJavaType.FLOAT16, 2);

  final Datatype datatype;
  final OnnxJavaType onnx;
  final int bytes;

  TensorType(Datatype datatype, OnnxJavaType onnx, int bytes) {
    this.datatype = datatype;
    this.onnx = onnx;
    this.bytes = bytes;
  }

  /** One element of value {@code v} in little-endian bytes: the pad pattern of an input. */
  byte[] encode(double v) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    switch (this) {
      case FP32 -> b.putFloat((float) v);
      case FP64 -> b.putDouble(v);
      case FP16 -> b.putShort(ai.onnxruntime.platform.Fp16Conversions.floatToFp16((float) v));
      case INT64 -> b.putLong((long) v);
      case INT32 -> b.putInt((int) v);
      case INT16 -> b.putShort((short) v);
      case INT8, UINT8 -> b.put((byte) (long) v);
      case BOOL -> b.put((byte) (v != 0 ? 1 : 0));
    }
    return b.array();
  }

  static TensorType of(String datatype) {
    return Arrays.stream(values()).filter(t -> t.datatype.name().equals(datatype)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("Unsupported tensor datatype '" + datatype
            + "'; supported: " + Arrays.toString(values())));
  }
}

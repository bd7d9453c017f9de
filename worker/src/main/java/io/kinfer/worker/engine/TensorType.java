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

  static TensorType of(String datatype) {
    return Arrays.stream(values()).filter(t -> t.datatype.name().equals(datatype)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("Unsupported tensor datatype '" + datatype
            + "'; supported: " + Arrays.toString(values())));
  }
}

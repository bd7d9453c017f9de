package io.kinfer.worker.models;

import ai.onnxruntime.platform.Fp16Conversions;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Requests for the {@link ShapeModels}, reproducible from a row number, in raw and typed forms. */
public final class ShapeModelRequests {
  private ShapeModelRequests() {}

  public static Tensor raw(String name, Datatype type, ByteBuffer bytes, long... shape) {
    return Tensor.newBuilder().setName(name).setDatatype(type).setShape(Arrays.stream(shape).boxed().toList())
        .setRaw(bytes.flip()).build();
  }

  public static Tensor typed(String name, Datatype type, TensorData data, long... shape) {
    return Tensor.newBuilder().setName(name).setDatatype(type).setShape(Arrays.stream(shape).boxed().toList())
        .setData(data).build();
  }

  public static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * {@value ShapeModels#TYPES} with raw inputs for row {@code r}: INT64 2^40 + r + j, INT32 -(r + j),
   * BOOL (r + j) odd, FP16 r + j + 0.5, FP64 r + j + 0.25, UINT8 250 + j, for j = 0..2.
   */
  public static InferenceRequest rawTypes(String id, int r) {
    ByteBuffer i64 = le(24);
    ByteBuffer i32 = le(12);
    ByteBuffer b = le(3);
    ByteBuffer f16 = le(6);
    ByteBuffer f64 = le(24);
    ByteBuffer u8 = le(3);
    for (int j = 0; j < 3; j++) {
      i64.putLong(1L << 40 | (r + j));
      i32.putInt(-(r + j));
      b.put((byte) ((r + j) % 2));
      f16.putShort(Fp16Conversions.floatToFp16(r + j + 0.5f));
      f64.putDouble(r + j + 0.25);
      u8.put((byte) (250 + j));
    }
    return InferenceRequest.newBuilder().setId(id).setModel(ShapeModels.TYPES).setInputs(List.of(
        raw(ShapeModels.typesInput("INT64"), Datatype.INT64, i64, 1, 3),
        raw(ShapeModels.typesInput("INT32"), Datatype.INT32, i32, 1, 3),
        raw(ShapeModels.typesInput("BOOL"), Datatype.BOOL, b, 1, 3),
        raw(ShapeModels.typesInput("FP16"), Datatype.FP16, f16, 1, 3),
        raw(ShapeModels.typesInput("FP64"), Datatype.FP64, f64, 1, 3),
        raw(ShapeModels.typesInput("UINT8"), Datatype.UINT8, u8, 1, 3))).build();
  }

  /** The same values as {@link #rawTypes}, in OIP's typed form (FP16 as numbers). */
  public static InferenceRequest typedTypes(String id, int r) {
    List<Long> i64 = new ArrayList<>();
    List<Integer> i32 = new ArrayList<>();
    List<Boolean> b = new ArrayList<>();
    List<Float> f16 = new ArrayList<>();
    List<Double> f64 = new ArrayList<>();
    List<Integer> u8 = new ArrayList<>();
    for (int j = 0; j < 3; j++) {
      i64.add(1L << 40 | (r + j));
      i32.add(-(r + j));
      b.add((r + j) % 2 == 1);
      f16.add(r + j + 0.5f);
      f64.add(r + j + 0.25);
      u8.add(250 + j);
    }
    return InferenceRequest.newBuilder().setId(id).setModel(ShapeModels.TYPES).setInputs(List.of(
        typed(ShapeModels.typesInput("INT64"), Datatype.INT64, TensorData.newBuilder().setInt64(i64).build(), 1, 3),
        typed(ShapeModels.typesInput("INT32"), Datatype.INT32, TensorData.newBuilder().setInt32(i32).build(), 1, 3),
        typed(ShapeModels.typesInput("BOOL"), Datatype.BOOL, TensorData.newBuilder().setBool(b).build(), 1, 3),
        typed(ShapeModels.typesInput("FP16"), Datatype.FP16, TensorData.newBuilder().setFp32(f16).build(), 1, 3),
        typed(ShapeModels.typesInput("FP64"), Datatype.FP64, TensorData.newBuilder().setFp64(f64).build(), 1, 3),
        typed(ShapeModels.typesInput("UINT8"), Datatype.UINT8, TensorData.newBuilder().setInt32(u8).build(), 1, 3)))
        .build();
  }

  /** {@value ShapeModels#ZIPMAP} with four features derived from row {@code r}. */
  public static InferenceRequest zipMap(String id, int r) {
    ByteBuffer x = le(4 * ShapeModels.ZIPMAP_FEATURES);
    for (int j = 0; j < ShapeModels.ZIPMAP_FEATURES; j++) {
      x.putFloat((float) Math.sin(r * 4 + j) * 3);
    }
    return InferenceRequest.newBuilder().setId(id).setModel(ShapeModels.ZIPMAP)
        .setInputs(List.of(raw(ShapeModels.ZIPMAP_INPUT, Datatype.FP32, x, 1, ShapeModels.ZIPMAP_FEATURES))).build();
  }
}

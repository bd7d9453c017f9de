package io.kinfer.worker.engine;

import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Splits a batch's outputs into one OIP tensor per request. */
final class OutputRows {
  private OutputRows() {}

  /**
   * @param data the batch output, row-major in {@code batchDims}, position at its start
   * @param ownDims per row, that request's own shape (the batch's, or smaller where the row was padded)
   */
  static void tensor(Port port, ByteBuffer data, long[] batchDims, long[][] ownDims, List<List<Tensor>> perRow) {
    int elementBytes = port.type().bytes;
    int rowBytes = (int) (Blocks.elements(batchDims, 1) * elementBytes);
    int base = data.position();
    for (int r = 0; r < perRow.size(); r++) {
      long[] own = ownDims[r];
      byte[] row = new byte[(int) (Blocks.elements(own, 1) * elementBytes)];
      if (row.length == rowBytes) {
        data.get(base + r * rowBytes, row);
      } else {
        Blocks.crop(data, base + r * rowBytes, batchDims, row, own, 1, elementBytes);
      }
      perRow.get(r).add(tensor(port.name(), port.type().datatype, own, row));
    }
  }

  /** A ZipMap output (one map of class to probability per row) as FP32 [1, classes] in model.json's order. */
  static void zipMap(Port port, OnnxValue value, List<List<Tensor>> perRow) throws OrtException {
    List<? extends OnnxValue> maps = ((OnnxSequence) value).getValue();
    if (maps.size() != perRow.size()) {
      throw new IllegalStateException("ZipMap output '" + port.name() + "' has " + maps.size() + " maps for "
          + perRow.size() + " rows");
    }
    List<String> classes = port.classes();
    for (int r = 0; r < maps.size(); r++) {
      Map<String, Number> byClass = new HashMap<>();
      ((OnnxMap) maps.get(r)).getValue().forEach((k, v) -> byClass.put(String.valueOf(k), (Number) v));
      ByteBuffer row = ByteBuffer.allocate(classes.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (String c : classes) {
        Number p = byClass.get(c);
        if (p == null) {
          throw new IllegalStateException("ZipMap output '" + port.name() + "' has no class " + c
              + " (model.json classes " + classes + ", the model's " + byClass.keySet() + ")");
        }
        row.putFloat(p.floatValue());
      }
      perRow.get(r).add(tensor(port.name(), Datatype.FP32, new long[] {1, classes.size()}, row.array()));
    }
  }

  private static Tensor tensor(String name, Datatype datatype, long[] shape, byte[] raw) {
    return Tensor.newBuilder().setName(name).setDatatype(datatype)
        .setShape(Arrays.stream(shape).boxed().toList()).setRaw(ByteBuffer.wrap(raw)).build();
  }
}

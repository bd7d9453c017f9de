package io.kinfer.worker.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an ONNX ModelProto from code: named FP32 initializers, nodes, and graph inputs/outputs
 * with a symbolic batch dimension. Field numbers are those of onnx.proto (IR version 8).
 */
public final class OnnxGraphWriter {
  private static final int IR_VERSION = 8;
  private static final int OPSET = 13;
  private static final int FLOAT = 1;
  private static final int INT8 = 3;

  private final String graphName;
  private final List<Protobuf> nodes = new ArrayList<>();
  private final List<Protobuf> initializers = new ArrayList<>();
  private final List<Protobuf> inputs = new ArrayList<>();
  private final List<Protobuf> outputs = new ArrayList<>();

  public OnnxGraphWriter(String graphName) {
    this.graphName = graphName;
  }

  /** A constant FP32 tensor, stored as raw little-endian data. */
  public OnnxGraphWriter initializer(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return rawInitializer(name, dims, FLOAT, raw.array());
  }

  /** A constant INT8 tensor (quantized weights); {@code dims} empty for a scalar. */
  public OnnxGraphWriter initializerInt8(String name, long[] dims, byte[] values) {
    return rawInitializer(name, dims, INT8, values);
  }

  /** TensorProto: dims (1), data type (2), name (8), raw_data (9). */
  private OnnxGraphWriter rawInitializer(String name, long[] dims, int type, byte[] values) {
    Protobuf t = new Protobuf();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, type);
    t.string(8, name);
    t.bytes(9, values);
    initializers.add(t);
    return this;
  }

  /** An FP32 initializer whose data lives in another file (for tests of the repository's refusal). */
  public OnnxGraphWriter externalInitializer(String name, long[] dims, String location) {
    Protobuf t = new Protobuf();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, FLOAT);
    t.string(8, name);
    t.message(13, new Protobuf().string(1, "location").string(2, location));
    t.varint(14, 1);
    initializers.add(t);
    return this;
  }

  /** A node; {@code intAttribute} is an optional (name, value) pair such as Softmax's axis. */
  public OnnxGraphWriter node(String opType, List<String> in, String out, String intAttrName, Long intAttrValue) {
    return node(opType, in, List.of(out), intAttrName, intAttrValue);
  }

  /** A node with several outputs (e.g. DynamicQuantizeLinear: values, scale, zero point). */
  public OnnxGraphWriter node(String opType, List<String> in, List<String> out, String intAttrName,
      Long intAttrValue) {
    Protobuf n = new Protobuf();
    in.forEach(i -> n.string(1, i));
    out.forEach(o -> n.string(2, o));
    n.string(3, out.get(0) + "_" + opType);
    n.string(4, opType);
    if (intAttrName != null) {
      n.message(5, new Protobuf().string(1, intAttrName).varint(3, intAttrValue).varint(20, 2));
    }
    nodes.add(n);
    return this;
  }

  /** A graph input of shape [batch, features], FP32. */
  public OnnxGraphWriter input(String name, long features) {
    inputs.add(valueInfo(name, features));
    return this;
  }

  public OnnxGraphWriter output(String name, long features) {
    outputs.add(valueInfo(name, features));
    return this;
  }

  public byte[] toByteArray() {
    Protobuf graph = new Protobuf();
    nodes.forEach(n -> graph.message(1, n));
    graph.string(2, graphName);
    initializers.forEach(i -> graph.message(5, i));
    inputs.forEach(i -> graph.message(11, i));
    outputs.forEach(o -> graph.message(12, o));
    return new Protobuf()
        .varint(1, IR_VERSION)
        .string(2, "kinfer-sample-models")
        .message(7, graph)
        .message(8, new Protobuf().string(1, "").varint(2, OPSET))
        .toByteArray();
  }

  private static Protobuf valueInfo(String name, long features) {
    Protobuf shape = new Protobuf()
        .message(1, new Protobuf().string(2, "batch"))
        .message(1, new Protobuf().varint(1, features));
    Protobuf tensorType = new Protobuf().varint(1, FLOAT).message(2, shape);
    return new Protobuf().string(1, name).message(2, new Protobuf().message(1, tensorType));
  }
}

package io.kinfer.worker.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an ONNX ModelProto from code: named initializers, nodes, and graph inputs/outputs. Field
 * numbers are those of onnx.proto (IR version 8).
 *
 * <p>The original shorthand ({@link #input(String, long)}, {@link #node(String, List, String, String,
 * Long)}, FP32/INT8 initializers) writes FP32 [batch, features] models with at most one int
 * attribute per node. The general forms exist so tests can build models with the signatures real
 * exporters produce: any tensor element type, symbolic dims anywhere ({@link ValueType#tensor}),
 * non-tensor outputs such as ZipMap's sequence of maps ({@link ValueType#sequence}, {@link
 * ValueType#map}), attributes of every common kind ({@link Attribute}), nodes of other domains
 * ({@link #nodeInDomain}) and the opset imports they need ({@link #opset}).
 */
public final class OnnxGraphWriter {
  private static final int IR_VERSION = 8;
  private static final int OPSET = 13;

  /** TensorProto.DataType values, the element types this writer is used with. */
  public enum ElementType {
    FLOAT(1), UINT8(2), INT8(3), INT32(6), INT64(7), BOOL(9), FLOAT16(10), DOUBLE(11);

    public final int code;

    ElementType(int code) {
      this.code = code;
    }
  }

  /**
   * A TypeProto: a tensor with a (possibly symbolic) shape, or a sequence or map of other types.
   * TypeProto fields: tensor_type (1), sequence_type (4), map_type (5).
   */
  public static final class ValueType {
    private final Protobuf proto;

    private ValueType(Protobuf proto) {
      this.proto = proto;
    }

    /**
     * A tensor type. Each dim is a fixed size (a {@link Number}, written as dim_value), a symbolic
     * name (a {@link String}, written as dim_param: every dim with the same name must be equal at run
     * time), or {@code null} for an unknown dim with neither (as some exporters write a free batch).
     */
    public static ValueType tensor(ElementType type, Object... dims) {
      Protobuf shape = new Protobuf();
      for (Object d : dims) {
        // TensorShapeProto.Dimension: dim_value (1), dim_param (2)
        if (d == null) {
          shape.message(1, new Protobuf());
        } else if (d instanceof String param) {
          shape.message(1, new Protobuf().string(2, param));
        } else if (d instanceof Number size) {
          shape.message(1, new Protobuf().varint(1, size.longValue()));
        } else {
          throw new IllegalArgumentException("A dim is a size, a symbolic name or null, not " + d);
        }
      }
      // TypeProto.Tensor: elem_type (1), shape (2)
      return new ValueType(new Protobuf().message(1, new Protobuf().varint(1, type.code).message(2, shape)));
    }

    /** seq(element), e.g. ZipMap's output {@code sequence(map(INT64, tensor(FLOAT)))}. */
    public static ValueType sequence(ValueType element) {
      // TypeProto.Sequence: elem_type (1)
      return new ValueType(new Protobuf().message(4, new Protobuf().message(1, element.proto)));
    }

    /** map(key, value); ONNX allows integral or STRING keys. Values are written as a TypeProto. */
    public static ValueType map(ElementType key, ValueType value) {
      // TypeProto.Map: key_type (1, a DataType), value_type (2)
      return new ValueType(new Protobuf().message(5, new Protobuf().varint(1, key.code).message(2, value.proto)));
    }

    /**
     * A tensor with no shape at all (rank unknown), the form in which exporters write a map's values:
     * ZipMap's map(int64, float) has value_type tensor(float) without a shape field.
     */
    public static ValueType unshaped(ElementType type) {
      return new ValueType(new Protobuf().message(1, new Protobuf().varint(1, type.code)));
    }
  }

  /**
   * One AttributeProto. Fields: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8),
   * strings (9), type (20); types FLOAT=1 INT=2 STRING=3 TENSOR=4 FLOATS=6 INTS=7 STRINGS=8. The
   * repeated fields are written unpacked, as proto2 (onnx.proto's syntax) does by default; parsers
   * accept either.
   */
  public static final class Attribute {
    private final Protobuf proto;

    private Attribute(String name) {
      this.proto = new Protobuf().string(1, name);
    }

    private Attribute typed(int type) {
      proto.varint(20, type);
      return this;
    }

    public static Attribute ofInt(String name, long value) {
      Attribute a = new Attribute(name);
      a.proto.varint(3, value);
      return a.typed(2);
    }

    public static Attribute ofInts(String name, long... values) {
      Attribute a = new Attribute(name);
      for (long v : values) {
        a.proto.varint(8, v);
      }
      return a.typed(7);
    }

    public static Attribute ofFloat(String name, float value) {
      Attribute a = new Attribute(name);
      a.proto.float32(2, value);
      return a.typed(1);
    }

    public static Attribute ofFloats(String name, float... values) {
      Attribute a = new Attribute(name);
      for (float v : values) {
        a.proto.float32(7, v);
      }
      return a.typed(6);
    }

    public static Attribute ofString(String name, String value) {
      Attribute a = new Attribute(name);
      a.proto.string(4, value);
      return a.typed(3);
    }

    public static Attribute ofStrings(String name, String... values) {
      Attribute a = new Attribute(name);
      for (String v : values) {
        a.proto.string(9, v);
      }
      return a.typed(8);
    }

    /** A tensor value (e.g. Constant's {@code value}); data little-endian as in {@link #initializer}. */
    public static Attribute ofTensor(String name, ElementType type, long[] dims, byte[] littleEndianData) {
      Attribute a = new Attribute(name);
      a.proto.message(5, tensorProto("", dims, type.code, littleEndianData));
      return a.typed(4);
    }
  }

  private final String graphName;
  private final List<Protobuf> nodes = new ArrayList<>();
  private final List<Protobuf> initializers = new ArrayList<>();
  private final List<Protobuf> inputs = new ArrayList<>();
  private final List<Protobuf> outputs = new ArrayList<>();
  /** domain → opset version; the default domain is always imported (at {@value #OPSET} unless changed). */
  private final Map<String, Long> opsets = new LinkedHashMap<>(Map.of("", (long) OPSET));

  public OnnxGraphWriter(String graphName) {
    this.graphName = graphName;
  }

  /**
   * Imports {@code domain} at {@code version} (or changes the version of one already imported), e.g.
   * {@code opset("ai.onnx.ml", 1)} for the classical ML operators; "" is the default ONNX domain.
   */
  public OnnxGraphWriter opset(String domain, long version) {
    opsets.put(domain, version);
    return this;
  }

  /** A constant FP32 tensor, stored as raw little-endian data. */
  public OnnxGraphWriter initializer(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return rawInitializer(name, dims, ElementType.FLOAT.code, raw.array());
  }

  /** A constant INT8 tensor (quantized weights); {@code dims} empty for a scalar. */
  public OnnxGraphWriter initializerInt8(String name, long[] dims, byte[] values) {
    return rawInitializer(name, dims, ElementType.INT8.code, values);
  }

  /** A constant INT64 tensor, e.g. the axes input of opset-13 Unsqueeze and ReduceSum. */
  public OnnxGraphWriter initializerInt64(String name, long[] dims, long[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    raw.asLongBuffer().put(values);
    return rawInitializer(name, dims, ElementType.INT64.code, raw.array());
  }

  /**
   * A constant of any element type from its raw_data: fixed-width little-endian elements, row-major;
   * BOOL one byte per element (0 or 1), FLOAT16 the IEEE half bits.
   */
  public OnnxGraphWriter initializer(String name, ElementType type, long[] dims, byte[] littleEndianData) {
    return rawInitializer(name, dims, type.code, littleEndianData);
  }

  private OnnxGraphWriter rawInitializer(String name, long[] dims, int type, byte[] values) {
    initializers.add(tensorProto(name, dims, type, values));
    return this;
  }

  /** TensorProto: dims (1), data type (2), name (8), raw_data (9). */
  private static Protobuf tensorProto(String name, long[] dims, int type, byte[] values) {
    Protobuf t = new Protobuf();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, type);
    if (!name.isEmpty()) {
      t.string(8, name);
    }
    t.bytes(9, values);
    return t;
  }

  /** An FP32 initializer whose data lives in another file (for tests of the repository's refusal). */
  public OnnxGraphWriter externalInitializer(String name, long[] dims, String location) {
    Protobuf t = new Protobuf();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, ElementType.FLOAT.code);
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
    return intAttrName == null
        ? node(opType, in, out)
        : node(opType, in, out, Attribute.ofInt(intAttrName, intAttrValue));
  }

  /** A node of the default ONNX domain with any attributes. */
  public OnnxGraphWriter node(String opType, List<String> in, List<String> out, Attribute... attributes) {
    return nodeInDomain("", opType, in, out, attributes);
  }

  /**
   * A node of operator set {@code domain} (NodeProto.domain, 7), e.g. "ai.onnx.ml" for
   * LinearClassifier and ZipMap; import the domain with {@link #opset}. An empty input name is an
   * omitted optional input.
   */
  public OnnxGraphWriter nodeInDomain(String domain, String opType, List<String> in, List<String> out,
      Attribute... attributes) {
    // NodeProto: input (1), output (2), name (3), op_type (4), attribute (5), domain (7)
    Protobuf n = new Protobuf();
    in.forEach(i -> n.string(1, i));
    out.forEach(o -> n.string(2, o));
    n.string(3, out.get(0) + "_" + opType);
    n.string(4, opType);
    for (Attribute a : attributes) {
      n.message(5, a.proto);
    }
    if (!domain.isEmpty()) {
      n.string(7, domain);
    }
    nodes.add(n);
    return this;
  }

  /** A graph input of shape [batch, features], FP32. */
  public OnnxGraphWriter input(String name, long features) {
    return input(name, ValueType.tensor(ElementType.FLOAT, "batch", features));
  }

  /** A tensor graph input; {@code dims} as in {@link ValueType#tensor}, e.g. ("batch", "sequence", 4). */
  public OnnxGraphWriter input(String name, ElementType type, Object... dims) {
    return input(name, ValueType.tensor(type, dims));
  }

  public OnnxGraphWriter input(String name, ValueType type) {
    inputs.add(valueInfo(name, type));
    return this;
  }

  /** A graph output of shape [batch, features], FP32. */
  public OnnxGraphWriter output(String name, long features) {
    return output(name, ValueType.tensor(ElementType.FLOAT, "batch", features));
  }

  public OnnxGraphWriter output(String name, ElementType type, Object... dims) {
    return output(name, ValueType.tensor(type, dims));
  }

  /** A graph output of any type, e.g. {@code sequence(map(INT64, unshaped(FLOAT)))}. */
  public OnnxGraphWriter output(String name, ValueType type) {
    outputs.add(valueInfo(name, type));
    return this;
  }

  public byte[] toByteArray() {
    // GraphProto: node (1), name (2), initializer (5), input (11), output (12)
    Protobuf graph = new Protobuf();
    nodes.forEach(n -> graph.message(1, n));
    graph.string(2, graphName);
    initializers.forEach(i -> graph.message(5, i));
    inputs.forEach(i -> graph.message(11, i));
    outputs.forEach(o -> graph.message(12, o));
    // ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8: domain 1, version 2)
    Protobuf model = new Protobuf()
        .varint(1, IR_VERSION)
        .string(2, "kinfer-sample-models")
        .message(7, graph);
    opsets.forEach((domain, version) -> model.message(8, new Protobuf().string(1, domain).varint(2, version)));
    return model.toByteArray();
  }

  /** ValueInfoProto: name (1), type (2). */
  private static Protobuf valueInfo(String name, ValueType type) {
    return new Protobuf().string(1, name).message(2, type.proto);
  }
}

package io.kinfer.worker.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.Dim;
import io.kinfer.worker.repository.ModelLoadException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * A version's inputs and outputs as model.json declares them, checked against the ONNX graph, with
 * what batching needs to know: which input dimension each variable output dimension follows (the
 * same symbolic name), and whether requests of different shapes may be padded into one batch.
 */
final class Signature {
  /** Where a variable output dimension takes its size from: input {@code input}, dimension {@code dim}. */
  record Source(int input, int dim) {}

  final List<Port> inputs;
  final List<Port> outputs;
  /** Per output, per dimension: the input dimension it follows, or null (fixed, batch, or unknown). */
  final Source[][] follows;
  /** False when requests of different shapes must run in separate batches. */
  final boolean paddable;
  final String whyNotPaddable;

  Signature(ModelConfig config) {
    String model = config.name() + ":" + config.version();
    if (config.maxBatchSize() < 1) {
      throw new ModelLoadException(model + ": max_batch_size must be at least 1, was " + config.maxBatchSize());
    }
    this.inputs = ports(config.inputs(), "input", model);
    this.outputs = ports(config.outputs(), "output", model);
    this.follows = new Source[outputs.size()][];
    String notPaddable = config.paddingAllowed() ? null : "model.json sets allow_padding=false";
    for (Port in : inputs) {
      if (notPaddable == null && !in.paddable() && !in.fixedRow()) {
        notPaddable = "input '" + in.name() + "' sets allow_padding=false";
      }
    }
    for (int o = 0; o < outputs.size(); o++) {
      Port out = outputs.get(o);
      follows[o] = new Source[out.rank()];
      for (int i = 1; i < out.rank() && !out.isZipMap(); i++) {
        Dim dim = out.dims().get(i);
        if (!dim.isFixed()) {
          follows[o][i] = find(dim.symbol());
          if (follows[o][i] == null && notPaddable == null) {
            notPaddable = "output '" + out.name() + "' dimension " + i + " (" + dim
                + ") follows no input dimension, so a padded answer could not be cut back";
          }
        }
      }
    }
    this.paddable = notPaddable == null;
    this.whyNotPaddable = notPaddable;
  }

  private Source find(String symbol) {
    if (symbol == null) {
      return null;
    }
    for (int p = 0; p < inputs.size(); p++) {
      List<Dim> dims = inputs.get(p).dims();
      for (int j = 1; j < dims.size(); j++) {
        if (symbol.equals(dims.get(j).symbol())) {
          return new Source(p, j);
        }
      }
    }
    return null;
  }

  private static List<Port> ports(List<ModelConfig.TensorSpec> specs, String kind, String model) {
    List<Port> ports = new ArrayList<>();
    for (ModelConfig.TensorSpec spec : specs) {
      if (spec.rank() == 0 || spec.shape().get(0).isFixed()) {
        throw new ModelLoadException(model + ": model.json declares " + kind + " '" + spec.name() + "' with shape "
            + spec.shape() + ": no batch dimension; the first dimension must be the batch (-1 or a name such as"
            + " \"batch\"), since each request is one row of a batch");
      }
      try {
        ports.add(Port.of(spec));
      } catch (IllegalArgumentException e) {
        throw new ModelLoadException(model + ": " + kind + " '" + spec.name() + "': " + e.getMessage(), e);
      }
    }
    return List.copyOf(ports);
  }

  /** Refuses a model.onnx whose graph does not match model.json, saying what differs. */
  void check(Map<String, NodeInfo> onnxInputs, Map<String, NodeInfo> onnxOutputs, int maxBatchSize) {
    check(onnxInputs, inputs, "input", maxBatchSize);
    check(onnxOutputs, outputs, "output", maxBatchSize);
  }

  private static void check(Map<String, NodeInfo> actual, List<Port> declared, String kind, int maxBatchSize) {
    if (!actual.keySet().equals(new HashSet<>(declared.stream().map(Port::name).toList()))) {
      throw new ModelLoadException("model.json declares " + kind + "s " + declared.stream().map(Port::name).toList()
          + " but model.onnx has " + actual.keySet());
    }
    for (Port port : declared) {
      ValueInfo info = actual.get(port.name()).getInfo();
      if (info instanceof SequenceInfo seq && seq.isSequenceOfMaps() && kind.equals("output")) {
        checkZipMap(port, seq);
        continue;
      }
      if (!(info instanceof TensorInfo tensor)) {
        throw new ModelLoadException(kind + " '" + port.name() + "' of model.onnx is " + info
            + ", not a tensor; only tensors and ZipMap outputs (a sequence of maps) are served");
      }
      if (port.isZipMap()) {
        throw new ModelLoadException("model.json lists classes for output '" + port.name()
            + "', but model.onnx returns it as a tensor, not a ZipMap: remove \"classes\"");
      }
      checkTensor(tensor, port, kind, maxBatchSize);
    }
  }

  /** A tensor of the graph against its model.json port: a variable batch dimension, then type and dims. */
  private static void checkTensor(TensorInfo tensor, Port port, String kind, int maxBatchSize) {
    long[] shape = tensor.getShape();
    if (shape.length == 0 || (shape[0] >= 0 && !(shape[0] == 1 && maxBatchSize == 1))) {
      throw new ModelLoadException(kind + " '" + port.name() + "' of model.onnx has shape " + Arrays.toString(shape)
          + ": no batch dimension. Each request is one row of a batch, so every " + kind + " needs the batch as"
          + " its first, variable dimension; re-export with it dynamic (torch.onnx.export dynamic_axes={'"
          + port.name() + "': {0: 'batch'}}, or skl2onnx with a None first dimension)");
    }
    boolean dimsMatch = shape.length == port.rank();
    for (int i = 1; dimsMatch && i < shape.length; i++) {
      Dim dim = port.dims().get(i);
      dimsMatch = shape[i] < 0 || (dim.isFixed() && dim.size() == shape[i]);
    }
    if (tensor.type != port.type().onnx || !dimsMatch) {
      throw new ModelLoadException("model.json declares " + kind + " " + port.describe() + " but model.onnx has "
          + tensor.type + " " + Arrays.toString(shape) + " " + Arrays.toString(tensor.getDimensionNames()));
    }
  }

  private static void checkZipMap(Port port, SequenceInfo seq) {
    if (!port.isZipMap()) {
      throw new ModelLoadException("output '" + port.name() + "' of model.onnx is a ZipMap (" + seq + ", one map of"
          + " class to probability per row). Either list the class ids in model.json (\"classes\": [...] on this"
          + " output, datatype FP32, shape [-1, number of classes]) and the worker answers a tensor in that order,"
          + " or re-export without ZipMap (skl2onnx: options={id(model): {'zipmap': False}})");
    }
    if (port.type() != TensorType.FP32 || port.rank() != 2 || !port.dims().get(1).isFixed()
        || port.dims().get(1).size() != port.classes().size()) {
      throw new ModelLoadException("output '" + port.name() + "' is a ZipMap: model.json must declare it FP32 with"
          + " shape [-1, " + port.classes().size() + "] (one column per listed class), not " + port.type().datatype
          + " " + port.dims());
    }
  }
}

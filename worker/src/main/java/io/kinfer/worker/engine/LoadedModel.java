package io.kinfer.worker.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import io.kinfer.worker.repository.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One loaded version: its session and signature. Builds each batch's input tensors in a per-thread
 * direct buffer that ONNX Runtime reads in place, copying raw request bytes without boxing.
 */
public final class LoadedModel implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelConfig config;
  private final List<Port> inputs;
  private final List<Port> outputs;
  private final ThreadLocal<ByteBuffer[]> buffers;
  private final long maxTensorElements;
  private final long maxBatchBytes;
  /** Batches hold the read side; close takes the write side, so a session is never closed mid-run. */
  private final ReadWriteLock inUse = new ReentrantReadWriteLock();

  /** An input or output with its type and per-row size. */
  record Port(String name, TensorType type, long rowElements, List<Long> rowShape, boolean allowNonFinite) {
    static Port of(TensorSpec spec) {
      List<Long> rowShape = new ArrayList<>(spec.shape());
      rowShape.set(0, 1L);
      return new Port(spec.name(), TensorType.of(spec.datatype()), spec.rowElements(), List.copyOf(rowShape),
          spec.allowNonFinite());
    }

    int rowBytes() {
      return (int) (rowElements * type.bytes);
    }

    String describe() {
      return "'" + name + "' " + type.datatype + " " + rowShape;
    }
  }

  private LoadedModel(OrtEnvironment env, OrtSession session, ModelConfig config, EngineOptions options) {
    this.maxTensorElements = options.maxTensorElements();
    this.maxBatchBytes = options.maxBatchBytes();
    this.env = env;
    this.session = session;
    this.config = config;
    this.inputs = config.inputs().stream().map(Port::of).toList();
    this.outputs = config.outputs().stream().map(Port::of).toList();
    this.buffers = ThreadLocal.withInitial(() -> new ByteBuffer[inputs.size()]);
  }

  static LoadedModel create(OrtEnvironment env, OrtSession session, ModelConfig config, EngineOptions options)
      throws OrtException {
    LoadedModel model = new LoadedModel(env, session, config, options);
    model.checkSignature(session.getInputInfo(), model.inputs, "input");
    model.checkSignature(session.getOutputInfo(), model.outputs, "output");
    return model;
  }

  public ModelConfig config() {
    return config;
  }

  private void checkSignature(Map<String, NodeInfo> actual, List<Port> declared, String kind) {
    if (!actual.keySet().equals(new java.util.HashSet<>(declared.stream().map(Port::name).toList()))) {
      throw new ModelLoadException("model.json declares " + kind + "s " + declared.stream().map(Port::name).toList()
          + " but model.onnx has " + actual.keySet());
    }
    for (Port port : declared) {
      TensorInfo info = (TensorInfo) actual.get(port.name()).getInfo();
      long[] shape = info.getShape();
      boolean dimsMatch = shape.length == port.rowShape().size();
      for (int i = 1; dimsMatch && i < shape.length; i++) {
        dimsMatch = shape[i] < 0 || shape[i] == port.rowShape().get(i);
      }
      if (info.type != port.type().onnx || !dimsMatch) {
        throw new ModelLoadException("model.json declares " + kind + " " + port.describe()
            + " but model.onnx has " + info.type + " " + Arrays.toString(shape));
      }
    }
  }

  /** Runs zero-filled batches so the first real request does not pay for lazy initialisation. */
  void warmUp() throws OrtException {
    for (int rows : new int[] {1, Math.max(1, Math.min(8, config.maxBatchSize()))}) {
      Map<String, OnnxTensor> feeds = new HashMap<>();
      try {
        for (Port port : inputs) {
          ByteBuffer zeros = ByteBuffer.allocateDirect(rows * port.rowBytes()).order(ByteOrder.nativeOrder());
          feeds.put(port.name(), OnnxTensor.createTensor(env, zeros, batchShape(port, rows), port.type().onnx));
        }
        session.run(feeds).close();
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
  }

  BatchResult infer(List<InferenceRequest> requests) {
    inUse.readLock().lock();
    try {
      return inferLocked(requests);
    } finally {
      inUse.readLock().unlock();
    }
  }

  private BatchResult inferLocked(List<InferenceRequest> requests) {
    long start = System.nanoTime();
    int n = requests.size();
    Outcome[] outcomes = new Outcome[n];
    List<Integer> valid = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String error = RequestValidation.check(requests.get(i), inputs, config, maxTensorElements);
      if (error == null) {
        valid.add(i);
      } else {
        outcomes[i] = Outcome.failed(error);
      }
    }
    if (!valid.isEmpty()) {
      try {
        run(requests, valid, outcomes);
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime failed on a batch of " + valid.size() + " for "
            + config.name() + ":" + config.version() + ": " + e.getMessage(), e);
      }
    }
    return new BatchResult(Arrays.asList(outcomes), System.nanoTime() - start);
  }

  private void run(List<InferenceRequest> requests, List<Integer> valid, Outcome[] outcomes) throws OrtException {
    int rows = valid.size();
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      ByteBuffer[] mine = buffers.get();
      for (int p = 0; p < inputs.size(); p++) {
        Port port = inputs.get(p);
        long bytes = (long) rows * port.rowBytes();
        if (bytes > maxBatchBytes) {
          // Thrown, not answered: failure isolation splits the batch into halves that fit.
          throw new IllegalArgumentException("A batch of " + rows + " needs " + bytes + " input bytes for '"
              + port.name() + "', over max.batch.bytes=" + maxBatchBytes);
        }
        ByteBuffer buf = ensure(mine, p, (int) bytes);
        for (int i : valid) {
          TensorWriter.write(find(requests.get(i), port.name()), port.type(), buf);
        }
        buf.flip();
        feeds.put(port.name(), OnnxTensor.createTensor(env, buf, batchShape(port, rows), port.type().onnx));
      }
      try (OrtSession.Result result = session.run(feeds)) {
        List<List<Tensor>> perRow = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
          perRow.add(new ArrayList<>(outputs.size()));
        }
        for (Port port : outputs) {
          ByteBuffer all = ((OnnxTensor) result.get(port.name()).orElseThrow()).getByteBuffer();
          int rowBytes = all.remaining() / rows;
          for (int r = 0; r < rows; r++) {
            byte[] row = new byte[rowBytes];
            all.get(row);
            perRow.get(r).add(Tensor.newBuilder().setName(port.name()).setDatatype(port.type().datatype)
                .setShape(port.rowShape()).setRaw(ByteBuffer.wrap(row)).build());
          }
        }
        for (int r = 0; r < rows; r++) {
          outcomes[valid.get(r)] = Outcome.ok(perRow.get(r));
        }
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private static ByteBuffer ensure(ByteBuffer[] buffers, int index, int bytes) {
    ByteBuffer buf = buffers[index];
    if (buf == null || buf.capacity() < bytes) {
      buf = ByteBuffer.allocateDirect(Math.max(bytes, buf == null ? 0 : buf.capacity() * 2))
          .order(ByteOrder.nativeOrder());
      buffers[index] = buf;
    }
    buf.clear();
    buf.limit(bytes);
    return buf;
  }

  private static long[] batchShape(Port port, int rows) {
    long[] shape = port.rowShape().stream().mapToLong(Long::longValue).toArray();
    shape[0] = rows;
    return shape;
  }

  static Tensor find(InferenceRequest request, String name) {
    for (Tensor t : request.getInputs()) {
      if (t.getName().equals(name)) {
        return t;
      }
    }
    return null;
  }

  @Override
  public void close() {
    inUse.writeLock().lock();
    try {
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("Cannot close session of " + config.name() + ":" + config.version(), e);
    } finally {
      inUse.writeLock().unlock();
    }
  }
}

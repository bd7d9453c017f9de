package io.kinfer.worker.engine;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.BatchResult.Outcome;
import io.kinfer.worker.engine.RequestValidation.Checked;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One loaded version: its session and signature. A batch's requests are validated, grouped (all
 * together when the model may be padded, else by identical shape), cut into chunks of at most
 * max_batch_size rows and max.batch.bytes per input, and each chunk runs as one ONNX Runtime call.
 * Inputs are written into per-thread direct buffers that ONNX Runtime reads in place (raw request
 * bytes in one bulk copy when no padding is needed); outputs whose shape is known in advance are
 * written by ONNX Runtime into per-thread direct buffers too, and each request's answer is cut
 * from there with one copy.
 */
public final class LoadedModel implements AutoCloseable {
  private final OrtEnvironment env;
  private final OrtSession session;
  private final ModelConfig config;
  private final Signature signature;
  private final List<Port> inputs;
  private final List<Port> outputs;
  private final ThreadLocal<ByteBuffer[]> inBuffers;
  private final ThreadLocal<ByteBuffer[]> outBuffers;
  private final long maxTensorElements;
  private final long maxBatchBytes;
  /** Outputs ONNX Runtime writes into our buffers (their shape follows from the inputs'). */
  private final boolean[] pinnable;
  /** A text model's tokenizer and post-processing, or null when requests carry the graph's own inputs. */
  private final TextModel text;
  /** Batches hold the read side; close takes the write side, so a session is never closed mid-run. */
  private final ReadWriteLock inUse = new ReentrantReadWriteLock();

  private LoadedModel(OrtEnvironment env, OrtSession session, ModelConfig config, Signature signature,
      EngineOptions options, TextModel text) {
    this.text = text;
    this.maxTensorElements = options.maxTensorElements();
    this.maxBatchBytes = options.maxBatchBytes();
    this.env = env;
    this.session = session;
    this.config = config;
    this.signature = signature;
    this.inputs = signature.inputs;
    this.outputs = signature.outputs;
    this.inBuffers = ThreadLocal.withInitial(() -> new ByteBuffer[inputs.size()]);
    this.outBuffers = ThreadLocal.withInitial(() -> new ByteBuffer[outputs.size()]);
    this.pinnable = new boolean[outputs.size()];
    for (int o = 0; o < outputs.size(); o++) {
      pinnable[o] = !outputs.get(o).isZipMap() && knownShape(o);
    }
  }

  /** @param labels a text classifier's class names file, or null */
  static LoadedModel create(OrtEnvironment env, OrtSession session, ModelConfig config, byte[] tokenizer,
      byte[] labels, EngineOptions options) throws OrtException {
    Signature signature = new Signature(config);
    signature.check(session.getInputInfo(), session.getOutputInfo(), config.maxBatchSize());
    TextModel text = config.isText() ? TextModel.create(config, tokenizer, labels, options.maxBatchBytes()) : null;
    return new LoadedModel(env, session, config, signature, options, text);
  }

  /** Whether requests carry a string ({@code text} BYTES [1]) that this version tokenizes itself. */
  public boolean isText() {
    return text != null;
  }

  public ModelConfig config() {
    return config;
  }

  /** Why requests of different shapes are not padded into one batch, or null when they are. */
  public String whyNotPaddable() {
    return signature.whyNotPaddable;
  }

  private boolean knownShape(int output) {
    Port port = outputs.get(output);
    for (int i = 1; i < port.rank(); i++) {
      if (!port.dims().get(i).isFixed() && signature.follows[output][i] == null) {
        return false;
      }
    }
    return true;
  }

  /**
   * Runs zero-filled batches so the first real request does not pay for lazy initialisation, and
   * checks that every output whose shape model.json ties to an input's really has that shape.
   */
  void warmUp() throws OrtException {
    runZeros(1, 2, true);
    runZeros(Math.max(1, Math.min(8, config.maxBatchSize())), 3, true);
    if (text != null) {
      Tensor hello = Tensor.newBuilder().setName(ModelConfig.TEXT_INPUT).setDatatype(io.kinfer.schemas.Datatype.BYTES)
          .setShape(List.of(1L)).setData(io.kinfer.schemas.TensorData.newBuilder().setStrings(List.of("warm up"))
              .build()).build();
      InferenceRequest request = InferenceRequest.newBuilder().setId("warm-up").setModel(config.name()).setInputs(List.of(hello)).build();
      Outcome[] outcome = new Outcome[1];
      text.infer(env, session, List.of(request), outcome);
      if (outcome[0] == null || outcome[0].error() != null) {
        throw new ModelLoadException(config.name() + ":" + config.version() + ": the text pipeline failed on a"
            + " warm-up text: " + (outcome[0] == null ? "no answer" : outcome[0].error()));
      }
    }
  }

  /**
   * A valid request of one row for this version, as a producer would send it: raw little-endian
   * inputs filled with their pad value, variable dimensions at {@code length} (within max_dims), or
   * for a text model a text of about {@code length} words. For warming up the request path.
   */
  public InferenceRequest sampleRequest(String id, int length) {
    List<Tensor> tensors = new ArrayList<>();
    if (text != null) {
      tensors.add(Tensor.newBuilder().setName(ModelConfig.TEXT_INPUT).setDatatype(io.kinfer.schemas.Datatype.BYTES)
          .setShape(List.of(1L)).setData(io.kinfer.schemas.TensorData.newBuilder()
              .setStrings(List.of("warm up ".repeat(Math.max(1, length)).trim())).build()).build());
    }
    for (Port port : text != null ? List.<Port>of() : inputs) {
      List<Long> shape = new ArrayList<>();
      shape.add(1L);
      long elements = 1;
      for (int i = 1; i < port.rank(); i++) {
        var dim = port.dims().get(i);
        long size = dim.isFixed() ? dim.size() : Math.max(1, Math.min(length, config.maxDim(dim.symbol())));
        shape.add(size);
        elements *= size;
      }
      byte[] raw = new byte[Math.toIntExact(elements * port.type().bytes)];
      for (int at = 0; at < raw.length; at += port.pad().length) {
        System.arraycopy(port.pad(), 0, raw, at, port.pad().length);
      }
      tensors.add(Tensor.newBuilder().setName(port.name()).setDatatype(port.type().datatype).setShape(shape)
          .setRaw(ByteBuffer.wrap(raw)).build());
    }
    return InferenceRequest.newBuilder().setId(id).setModel(config.name()).setInputs(tensors).build();
  }

  /** Whether the session still answers the warm-up's known-good input (one row). */
  boolean probe() {
    inUse.readLock().lock();
    try {
      runZeros(1, 2, false);
      return true;
    } catch (OrtException | RuntimeException e) {
      return false;
    } finally {
      inUse.readLock().unlock();
    }
  }

  /** One run of {@code rows} zero rows, variable dimensions at {@code length} (within max_dims). */
  private void runZeros(int rows, long length, boolean checkShapes) throws OrtException {
    long[][] dims = new long[inputs.size()][];
    for (int p = 0; p < inputs.size(); p++) {
      Port port = inputs.get(p);
      dims[p] = new long[port.rank()];
      dims[p][0] = rows;
      for (int i = 1; i < port.rank(); i++) {
        var dim = port.dims().get(i);
        dims[p][i] = dim.isFixed() ? dim.size() : Math.min(length, config.maxDim(dim.symbol()));
      }
    }
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (int p = 0; p < inputs.size(); p++) {
        Port port = inputs.get(p);
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) (Blocks.elements(dims[p], 0) * port.type().bytes))
            .order(ByteOrder.nativeOrder());
        feeds.put(port.name(), OnnxTensor.createTensor(env, zeros, dims[p], port.type().onnx));
      }
      try (OrtSession.Result result = session.run(feeds)) {
        if (checkShapes) {
          checkWarmUpShapes(result, dims);
        }
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private void checkWarmUpShapes(OrtSession.Result result, long[][] inputDims) throws OrtException {
    for (int o = 0; o < outputs.size(); o++) {
      if (outputs.get(o).isZipMap()) {
        try {
          List<List<Tensor>> rows = new ArrayList<>();
          for (int r = 0; r < inputDims[0][0]; r++) {
            rows.add(new ArrayList<>());
          }
          OutputRows.zipMap(outputs.get(o), result.get(outputs.get(o).name()).orElseThrow(), rows);
        } catch (IllegalStateException e) {
          throw new ModelLoadException(config.name() + ":" + config.version() + ": " + e.getMessage(), e);
        }
      }
      if (!pinnable[o]) {
        continue;
      }
      long[] expected = outputDims(o, inputDims);
      long[] got = ((TensorInfo) result.get(outputs.get(o).name()).orElseThrow().getInfo()).getShape();
      if (!Arrays.equals(expected, got)) {
        throw new ModelLoadException(config.name() + ":" + config.version() + ": output " + outputs.get(o).describe()
            + " should have shape " + Arrays.toString(expected) + " for inputs shaped " + Arrays.deepToString(inputDims)
            + ", but model.onnx returned " + Arrays.toString(got) + "; fix the output's dimension names in model.json"
            + " (a name shared with an input dimension means 'same size as it')");
      }
    }
  }

  /** An output's shape for inputs of the given (batch) shapes: fixed sizes and followed input sizes. */
  private long[] outputDims(int output, long[][] inputDims) {
    Port port = outputs.get(output);
    long[] dims = new long[port.rank()];
    dims[0] = inputDims[0][0];
    for (int i = 1; i < dims.length; i++) {
      Signature.Source src = signature.follows[output][i];
      dims[i] = src != null ? inputDims[src.input()][src.dim()] : port.dims().get(i).size();
    }
    return dims;
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
    if (text != null) {
      try {
        text.infer(env, session, requests, outcomes);
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime failed on a text batch of " + n + " for " + config.name() + ":"
            + config.version() + ": " + e.getMessage(), e);
      }
      return new BatchResult(Arrays.asList(outcomes), System.nanoTime() - start);
    }
    long[][][] shapes = new long[n][][];
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      Checked checked = RequestValidation.check(requests.get(i), inputs, config, maxTensorElements);
      if (!checked.ok()) {
        outcomes[i] = Outcome.failed(checked.error());
        continue;
      }
      shapes[i] = checked.shapes();
      groups.computeIfAbsent(signature.paddable ? "" : Arrays.deepToString(shapes[i]), k -> new ArrayList<>()).add(i);
    }
    for (List<Integer> group : groups.values()) {
      for (List<Integer> chunk : chunks(group, shapes, outcomes)) {
        try {
          run(requests, chunk, shapes, outcomes);
        } catch (OrtException e) {
          throw new IllegalStateException("ONNX Runtime failed on a batch of " + chunk.size() + " for "
              + config.name() + ":" + config.version() + ": " + e.getMessage(), e);
        }
      }
    }
    return new BatchResult(Arrays.asList(outcomes), System.nanoTime() - start);
  }

  /**
   * Cuts a group into engine calls of at most max_batch_size rows whose padded inputs stay within
   * max.batch.bytes each; a request too large to run even alone is answered with an error.
   */
  private List<List<Integer>> chunks(List<Integer> group, long[][][] shapes, Outcome[] outcomes) {
    List<List<Integer>> chunks = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    long[][] padded = null;
    for (int i : group) {
      long[][] widened = widen(padded, shapes[i]);
      if (!current.isEmpty() && (current.size() >= config.maxBatchSize() || !fits(widened, current.size() + 1))) {
        chunks.add(current);
        current = new ArrayList<>();
        widened = widen(null, shapes[i]);
      }
      if (!fits(widened, 1)) {
        outcomes[i] = Outcome.failed("Request needs more than max.batch.bytes=" + maxBatchBytes + " for one input"
            + " even alone (shapes " + Arrays.deepToString(shapes[i]) + ")");
        continue;
      }
      current.add(i);
      padded = widened;
    }
    if (!current.isEmpty()) {
      chunks.add(current);
    }
    return chunks;
  }

  /** The element-wise maximum of a chunk's row shapes and one more request's. */
  private static long[][] widen(long[][] padded, long[][] shape) {
    if (padded == null) {
      return shape;
    }
    long[][] out = new long[shape.length][];
    for (int p = 0; p < shape.length; p++) {
      out[p] = shape[p].clone();
      for (int d = 1; d < out[p].length; d++) {
        out[p][d] = Math.max(out[p][d], padded[p][d]);
      }
    }
    return out;
  }

  private boolean fits(long[][] rowShapes, int rows) {
    for (int p = 0; p < inputs.size(); p++) {
      if (rows * Blocks.elements(rowShapes[p], 1) * inputs.get(p).type().bytes > maxBatchBytes) {
        return false;
      }
    }
    return true;
  }

  private void run(List<InferenceRequest> requests, List<Integer> rows, long[][][] shapes, Outcome[] outcomes)
      throws OrtException {
    int n = rows.size();
    long[][] batchDims = new long[inputs.size()][];
    for (int p = 0; p < inputs.size(); p++) {
      batchDims[p] = shapes[rows.get(0)][p].clone();
      for (int r : rows) {
        for (int d = 1; d < batchDims[p].length; d++) {
          batchDims[p][d] = Math.max(batchDims[p][d], shapes[r][p][d]);
        }
      }
      batchDims[p][0] = n;
    }
    Map<String, OnnxTensor> feeds = new HashMap<>();
    Map<String, OnnxTensor> pinned = new HashMap<>();
    try {
      ByteBuffer[] mine = inBuffers.get();
      for (int p = 0; p < inputs.size(); p++) {
        Port port = inputs.get(p);
        ByteBuffer buf = ensure(mine, p, (int) (Blocks.elements(batchDims[p], 0) * port.type().bytes));
        for (int r : rows) {
          Tensor t = find(requests.get(r), port.name());
          if (sameRow(shapes[r][p], batchDims[p])) {
            TensorWriter.write(t, port.type(), buf);
          } else {
            Blocks.pad(TensorWriter.bytes(t, port.type(), Blocks.elements(shapes[r][p], 0)), shapes[r][p], buf,
                batchDims[p], 1, port.type().bytes, port.pad());
          }
        }
        buf.flip();
        feeds.put(port.name(), OnnxTensor.createTensor(env, buf, batchDims[p], port.type().onnx));
      }
      long[][] outDims = new long[outputs.size()][];
      ByteBuffer[] outs = outBuffers.get();
      java.util.Set<String> computed = new java.util.HashSet<>();
      for (int o = 0; o < outputs.size(); o++) {
        Port port = outputs.get(o);
        if (!pinnable[o]) {
          computed.add(port.name());
          continue;
        }
        outDims[o] = outputDims(o, batchDims);
        ByteBuffer buf = ensure(outs, o, (int) (Blocks.elements(outDims[o], 0) * port.type().bytes));
        pinned.put(port.name(), OnnxTensor.createTensor(env, buf, outDims[o], port.type().onnx));
      }
      try (OrtSession.Result result = session.run(feeds, computed, pinned)) {
        List<List<Tensor>> perRow = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
          perRow.add(new ArrayList<>(outputs.size()));
        }
        for (int o = 0; o < outputs.size(); o++) {
          Port port = outputs.get(o);
          if (port.isZipMap()) {
            OutputRows.zipMap(port, result.get(port.name()).orElseThrow(), perRow);
            continue;
          }
          ByteBuffer data;
          if (pinnable[o]) {
            data = outs[o].duplicate().order(ByteOrder.LITTLE_ENDIAN);
          } else {
            OnnxTensor tensor = (OnnxTensor) result.get(port.name()).orElseThrow();
            outDims[o] = tensor.getInfo().getShape();
            data = tensor.getByteBuffer(); // a copy: ONNX Runtime allocated this output itself
          }
          OutputRows.tensor(port, data, outDims[o], ownDims(o, outDims[o], rows, shapes), perRow);
        }
        for (int r = 0; r < n; r++) {
          outcomes[rows.get(r)] = Outcome.ok(perRow.get(r));
        }
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
      pinned.values().forEach(OnnxTensor::close);
    }
  }

  /** Each row's own output shape: the batch's, with followed dimensions at that request's size. */
  private long[][] ownDims(int output, long[] batchDims, List<Integer> rows, long[][][] shapes) {
    long[][] own = new long[rows.size()][];
    for (int r = 0; r < rows.size(); r++) {
      own[r] = batchDims.clone();
      own[r][0] = 1;
      for (int i = 1; i < own[r].length; i++) {
        Signature.Source src = signature.follows[output][i];
        if (src != null) {
          own[r][i] = shapes[rows.get(r)][src.input()][src.dim()];
        }
      }
    }
    return own;
  }

  private static boolean sameRow(long[] shape, long[] batchDims) {
    for (int d = 1; d < shape.length; d++) {
      if (shape[d] != batchDims[d]) {
        return false;
      }
    }
    return true;
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
      if (text != null) {
        text.close();
      }
      session.close();
    } catch (OrtException e) {
      throw new IllegalStateException("Cannot close session of " + config.name() + ":" + config.version(), e);
    } finally {
      inUse.writeLock().unlock();
    }
  }
}

package io.kinfer.worker.engine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.serde.AvroSafety;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.infer.BatchResult;
import io.kinfer.topology.infer.InferenceEngine;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository.VerifiedModel;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ONNX Runtime engine: one session per model version, shared by every stream thread (ONNX
 * Runtime sessions are safe to run concurrently). A version is loaded, checked against its
 * model.json and warmed up before {@link #loaded()} reports it.
 */
public final class OnnxEngine implements InferenceEngine {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxEngine.class);

  static {
    AvroSafety.ensureConfigured(); // requests and responses are Avro records built and copied here
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("Raw tensors are little-endian; this engine needs a little-endian CPU");
    }
  }

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final EngineOptions options;
  private final Map<ModelVersion, LoadedModel> models = new ConcurrentHashMap<>();
  /** Snapshot of models' keys, replaced on load/unload: routing asks for it on every request. */
  private volatile Set<ModelVersion> loaded = Set.of();

  public OnnxEngine(EngineOptions options) {
    this.options = options;
  }

  /** Creates the session, checks its signature against model.json, and runs one warm-up batch. */
  public void load(VerifiedModel model) {
    OrtSession session;
    try (OrtSession.SessionOptions opts = sessionOptions()) {
      session = env.createSession(model.onnx(), opts);
    } catch (OrtException e) {
      throw new ModelLoadException(model.version() + ": ONNX Runtime cannot load model.onnx ("
          + e.getMessage() + "); regenerate or re-export the model", e);
    }
    LoadedModel loaded = null;
    try {
      loaded = LoadedModel.create(env, session, model.config(), model.tokenizer(), model.labels(), options);
      loaded.warmUp();
      LoadedModel previous = models.put(model.version(), loaded);
      refreshLoaded();
      if (previous != null) {
        previous.close();
      }
      LOG.info("Loaded {} on {} (sha256 {})", model.version(), options.device(), model.config().sha256());
    } catch (RuntimeException | OrtException e) {
      if (loaded != null) {
        closeQuietly(loaded); // its session and a text model's tokenizer
      } else {
        closeQuietly(session);
      }
      throw e instanceof ModelLoadException m ? m
          : new ModelLoadException(model.version() + ": " + e.getMessage(), e);
    }
  }

  public void unload(ModelVersion version) {
    LoadedModel model = models.remove(version);
    refreshLoaded();
    if (model != null) {
      model.close();
    }
  }

  /** Copy and publish under one lock, so a concurrent load and unload cannot leave a stale snapshot. */
  private synchronized void refreshLoaded() {
    loaded = Set.copyOf(models.keySet());
  }

  @Override
  public Set<ModelVersion> loaded() {
    return loaded;
  }

  /** The model.json-declared signature of a loaded version. */
  public LoadedModel model(ModelVersion version) {
    return models.get(version);
  }

  @Override
  public boolean probe(ModelVersion version) {
    LoadedModel model = models.get(version);
    return model != null && model.probe();
  }

  @Override
  public int maxBatchSize(ModelVersion version) {
    LoadedModel model = models.get(version);
    return model == null ? Integer.MAX_VALUE : model.config().maxBatchSize();
  }

  @Override
  public BatchResult infer(ModelVersion version, List<InferenceRequest> requests) {
    LoadedModel model = models.get(version);
    if (model == null) {
      throw new IllegalStateException(version + " is not loaded; loaded: " + models.keySet());
    }
    return model.infer(requests);
  }

  @Override
  public void close() {
    models.values().forEach(LoadedModel::close);
    models.clear();
    refreshLoaded();
  }

  OrtSession.SessionOptions sessionOptions() throws OrtException {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    // Kafka, Streams and Avro share these cores: idle ONNX Runtime threads must not spin.
    opts.addConfigEntry("session.intra_op.allow_spinning", "0");
    if (options.intraOpThreads() > 0) {
      opts.setIntraOpNumThreads(options.intraOpThreads());
    }
    if (EngineOptions.CUDA.equals(options.device())) {
      addCuda(opts);
    } else if (!EngineOptions.CPU.equals(options.device())) {
      throw new IllegalArgumentException("device must be 'cpu' or 'cuda', was '" + options.device() + "'");
    }
    return opts;
  }

  private void addCuda(OrtSession.SessionOptions opts) throws OrtException {
    boolean available = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    String why = "device=cuda but this ONNX Runtime build has no CUDA execution provider (available: "
        + OrtEnvironment.getAvailableProviders() + "). Build with 'mvn -Pgpu' (onnxruntime_gpu) on a"
        + " host with CUDA and cuDNN, or set device=cpu";
    if (!available) {
      if (options.cpuFallback()) {
        LOG.warn("{}; falling back to CPU (device.cpu.fallback=true)", why);
        return;
      }
      throw new ModelLoadException(why);
    }
    try {
      opts.addCUDA(options.cudaDeviceId());
    } catch (OrtException e) {
      if (!options.cpuFallback()) {
        throw new ModelLoadException("CUDA device " + options.cudaDeviceId() + " unusable: " + e.getMessage()
            + ". The GPU build needs an NVIDIA driver plus the CUDA 12 and cuDNN 9 runtime libraries on the"
            + " library path (the runtime-gpu image has them); or set device=cpu / device.cpu.fallback=true", e);
      }
      LOG.warn("CUDA device {} unusable ({}); falling back to CPU", options.cudaDeviceId(), e.getMessage());
    }
  }

  private static void closeQuietly(LoadedModel loaded) {
    try {
      loaded.close();
    } catch (RuntimeException ignored) {
      // already failing; the load error is what matters
    }
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException ignored) {
      // already failing; the load error is what matters
    }
  }
}

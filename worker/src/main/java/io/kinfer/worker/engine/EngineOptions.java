package io.kinfer.worker.engine;

/**
 * How ONNX Runtime sessions are created.
 *
 * @param device "cpu" or "cuda"
 * @param cudaDeviceId which GPU when device is cuda
 * @param cpuFallback when device is cuda but CUDA is unavailable: fall back to CPU (true) or fail
 * @param intraOpThreads threads per session; 0 lets ONNX Runtime decide
 * @param maxTensorElements largest request tensor, checked from its shape before allocation
 * @param maxBatchBytes largest input buffer of one engine call; bigger batches fail and are split
 */
public record EngineOptions(String device, int cudaDeviceId, boolean cpuFallback, int intraOpThreads,
    long maxTensorElements, long maxBatchBytes) {
  public static final long DEFAULT_MAX_TENSOR_ELEMENTS = 1_000_000;
  public static final long DEFAULT_MAX_BATCH_BYTES = 256L << 20;

  public EngineOptions(String device, int cudaDeviceId, boolean cpuFallback, int intraOpThreads) {
    this(device, cudaDeviceId, cpuFallback, intraOpThreads, DEFAULT_MAX_TENSOR_ELEMENTS, DEFAULT_MAX_BATCH_BYTES);
  }

  public static final String CPU = "cpu";
  public static final String CUDA = "cuda";

  public static EngineOptions cpu() {
    return new EngineOptions(CPU, 0, false, 0);
  }
}

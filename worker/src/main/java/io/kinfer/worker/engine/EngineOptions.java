package io.kinfer.worker.engine;

/**
 * How ONNX Runtime sessions are created.
 *
 * @param device "cpu" or "cuda"
 * @param cudaDeviceId which GPU when device is cuda
 * @param cpuFallback when device is cuda but CUDA is unavailable: fall back to CPU (true) or fail
 * @param intraOpThreads threads per session; 0 lets ONNX Runtime decide
 */
public record EngineOptions(String device, int cudaDeviceId, boolean cpuFallback, int intraOpThreads) {
  public static final String CPU = "cpu";
  public static final String CUDA = "cuda";

  public static EngineOptions cpu() {
    return new EngineOptions(CPU, 0, false, 0);
  }
}

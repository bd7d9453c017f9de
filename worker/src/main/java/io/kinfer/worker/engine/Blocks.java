package io.kinfer.worker.engine;

import java.nio.ByteBuffer;

/**
 * Row-major copies between a block and a larger one of the same rank: padding a request's tensor
 * into a batch row, and cutting a batch row's output back to the request's own size. The innermost
 * dimension is copied as one contiguous run, so a rank-2 row (a token sequence) costs one bulk copy.
 */
final class Blocks {
  private Blocks() {}

  static long elements(long[] dims, int from) {
    long n = 1;
    for (int i = from; i < dims.length; i++) {
      n *= dims[i];
    }
    return n;
  }

  /**
   * Appends {@code src} (shape {@code srcDims}, dimensions from {@code from} on) to {@code out} laid
   * out in {@code dstDims}, every element beyond {@code srcDims} set to {@code pad}.
   */
  static void pad(ByteBuffer src, long[] srcDims, ByteBuffer out, long[] dstDims, int from, int elementBytes,
      byte[] pad) {
    padLevel(src.duplicate(), srcDims, out, dstDims, from, elementBytes, pad);
  }

  private static void padLevel(ByteBuffer src, long[] srcDims, ByteBuffer out, long[] dstDims, int level,
      int elementBytes, byte[] pad) {
    if (level == srcDims.length - 1) {
      int run = (int) srcDims[level] * elementBytes;
      ByteBuffer slice = src.slice();
      slice.limit(run);
      out.put(slice);
      src.position(src.position() + run);
      fill(out, dstDims[level] - srcDims[level], pad);
      return;
    }
    for (long i = 0; i < srcDims[level]; i++) {
      padLevel(src, srcDims, out, dstDims, level + 1, elementBytes, pad);
    }
    fill(out, (dstDims[level] - srcDims[level]) * elements(dstDims, level + 1), pad);
  }

  private static void fill(ByteBuffer out, long count, byte[] pad) {
    for (long i = 0; i < count; i++) {
      out.put(pad);
    }
  }

  /**
   * Copies the leading {@code ownDims} corner of the row that starts at {@code offset} in {@code
   * src}, laid out in {@code rowDims} (dimensions from {@code from} on), into {@code out}.
   */
  static void crop(ByteBuffer src, int offset, long[] rowDims, byte[] out, long[] ownDims, int from,
      int elementBytes) {
    int[] written = {0};
    cropLevel(src, offset, rowDims, out, written, ownDims, from, elementBytes);
  }

  private static void cropLevel(ByteBuffer src, int offset, long[] rowDims, byte[] out, int[] written,
      long[] ownDims, int level, int elementBytes) {
    if (level == rowDims.length - 1) {
      int run = (int) ownDims[level] * elementBytes;
      src.get(offset, out, written[0], run);
      written[0] += run;
      return;
    }
    int stride = (int) (elements(rowDims, level + 1) * elementBytes);
    for (int i = 0; i < ownDims[level]; i++) {
      cropLevel(src, offset + i * stride, rowDims, out, written, ownDims, level + 1, elementBytes);
    }
  }
}

package io.kinfer.worker.models;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Requests for a BERT-style model that takes token ids (input_ids, attention_mask, token_type_ids,
 * INT64 [1, length]), and the long-tailed length mix real text has: most requests short, a few long.
 */
public final class TokenRequests {
  static final long CLS = 101;
  static final long SEP = 102;
  /** Ordinary word-piece ids of the BERT uncased vocabulary (30,522 entries). */
  private static final int FIRST_WORD = 1996;
  private static final int LAST_WORD = 29611;

  private TokenRequests() {}

  /** [CLS] w1 .. w(length-2) [SEP], words drawn at random. */
  public static long[] tokens(RandomGenerator random, int length) {
    long[] ids = new long[Math.max(2, length)];
    ids[0] = CLS;
    for (int i = 1; i < ids.length - 1; i++) {
      ids[i] = FIRST_WORD + random.nextInt(LAST_WORD - FIRST_WORD);
    }
    ids[ids.length - 1] = SEP;
    return ids;
  }

  /**
   * A long-tailed length: 80% between 8 and 32 tokens, 15% up to 64, 5% up to {@code max}.
   */
  public static int length(RandomGenerator random, int max) {
    double u = random.nextDouble();
    int length = u < 0.80 ? 8 + random.nextInt(25) : u < 0.95 ? 33 + random.nextInt(32) : 65 + random.nextInt(
        Math.max(1, max - 64));
    return Math.min(length, max);
  }

  public static InferenceRequest request(String id, String model, long[] ids) {
    return padded(id, model, ids, ids.length);
  }

  /**
   * The request padded by its sender to {@code length} tokens, as a fixed-length handler does
   * (TorchServe's reference transformer handler pads every request to max_length): input_ids and
   * token_type_ids padded with 0, attention_mask 1 on the real tokens and 0 on the padding.
   */
  public static InferenceRequest padded(String id, String model, long[] ids, int length) {
    long[] mask = new long[Math.max(length, ids.length)];
    java.util.Arrays.fill(mask, 0, ids.length, 1);
    return InferenceRequest.newBuilder().setId(id).setModel(model).setInputs(List.of(
        int64("input_ids", java.util.Arrays.copyOf(ids, mask.length)), int64("attention_mask", mask),
        int64("token_type_ids", new long[mask.length]))).build();
  }

  private static Tensor int64(String name, long[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    raw.asLongBuffer().put(values);
    return Tensor.newBuilder().setName(name).setDatatype(Datatype.INT64).setShape(List.of(1L, (long) values.length))
        .setRaw(raw).build();
  }
}

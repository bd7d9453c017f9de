package io.kinfer.client.load;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.models.TextMix;
import io.kinfer.worker.models.TextRequests;
import io.kinfer.worker.models.TokenRequests;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

/**
 * Requests reproducible from (seed, index) so a test can recompute any request's input: features
 * for the sample MLP, or token ids of a long-tailed length mix for a BERT-style model ({@link
 * #tokens}), or strings for a text model ({@link #texts}). Ids are {@code <prefix>-<index>}.
 */
public final class RequestFactory {
  private final String prefix;
  private final long seed;
  private final String model;
  private final int features;
  private final int maxTokens;
  private final int entities;
  /** A text model's string of each index; null when requests carry tensors. */
  private final LongFunction<String> texts;

  public RequestFactory(String prefix, long seed) {
    this(prefix, seed, SampleModels.MLP, SampleModels.MLP_FEATURES);
  }

  public RequestFactory(String prefix, long seed, String model, int features) {
    this(prefix, seed, model, features, 0, 10_000, null);
  }

  private RequestFactory(String prefix, long seed, String model, int features, int maxTokens, int entities,
      LongFunction<String> texts) {
    this.prefix = prefix;
    this.seed = seed;
    this.model = model;
    this.features = features;
    this.maxTokens = maxTokens;
    this.entities = entities;
    this.texts = texts;
  }

  /**
   * Token-id requests (input_ids, attention_mask, token_type_ids) of lengths up to {@code maxTokens},
   * most short, a few long ({@link TokenRequests#length}), for {@code entities} routing keys.
   */
  public static RequestFactory tokens(String prefix, long seed, String model, int maxTokens, int entities) {
    return new RequestFactory(prefix, seed, model, 0, maxTokens, entities, null);
  }

  /** Text requests ({@code text} BYTES [1]) carrying {@code texts.apply(index)}, for 10,000 routing keys. */
  public static RequestFactory texts(String prefix, String model, LongFunction<String> texts) {
    return new RequestFactory(prefix, 0, model, 0, 0, 10_000, texts);
  }

  /** Text requests of the generated mix {@link TextMix} of {@code seed}. */
  public static RequestFactory textMix(String prefix, long seed, String model) {
    return texts(prefix, model, index -> TextMix.text(seed, index));
  }

  /** The string of request {@code index} (text mode). */
  public String text(long index) {
    return texts.apply(index);
  }

  /** The token ids of request {@code index} (token mode). */
  public long[] tokenIds(long index) {
    // SplittableRandom mixes its seed; java.util.Random's first draws for consecutive seeds are
    // nearly the same, which made every request of one factory fall in one length class.
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + index);
    return TokenRequests.tokens(random, TokenRequests.length(random, maxTokens));
  }

  public String id(long index) {
    return prefix + "-" + index;
  }

  /** The index of an id made by this factory, or -1. */
  public long index(String id) {
    if (!id.startsWith(prefix + "-")) {
      return -1;
    }
    try {
      return Long.parseLong(id.substring(prefix.length() + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public float[] features(long index) {
    SplittableRandom random = new SplittableRandom(seed * 1_000_003L + index);
    float[] x = new float[features];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 4 - 2);
    }
    return x;
  }

  public InferenceRequest request(long index) {
    if (texts != null) { // OIP's raw BYTES form: what a client sending binary tensors sends
      return TextRequests.raw(id(index), model, texts.apply(index));
    }
    if (maxTokens > 0) {
      return TokenRequests.request(id(index), model, tokenIds(index));
    }
    float[] x = features(index);
    ByteBuffer raw = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(x);
    Tensor input = Tensor.newBuilder().setName(SampleModels.INPUT).setDatatype(Datatype.FP32)
        .setShape(List.of(1L, (long) x.length)).setRaw(raw).build();
    return InferenceRequest.newBuilder().setId(id(index)).setModel(model).setInputs(List.of(input)).build();
  }

  /** Routing key: an entity id, many requests per entity. */
  public String key(long index) {
    return "entity-" + (index % entities);
  }
}

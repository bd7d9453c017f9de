package io.kinfer.worker.models;

import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.FLOAT;
import static io.kinfer.worker.models.OnnxGraphWriter.ElementType.INT64;

import io.kinfer.worker.models.OnnxGraphWriter.Attribute;
import java.util.List;
import java.util.Random;

/**
 * A generated text classifier graph, shaped as a Hugging Face sequence-classification export:
 * {@code input_ids} and {@code attention_mask} INT64 [batch, sequence] in, {@code logits} FP32
 * [batch, classes] out. Inside: a random token embedding table, mean over the attention mask, one
 * linear layer. Small, so tests serve a classifier behind a real tokenizer in milliseconds.
 */
public final class TextClassifierModels {
  public static final String LOGITS = "logits";
  private static final int WIDTH = 16;

  private TextClassifierModels() {}

  /** model.onnx bytes for a tokenizer of {@code vocabulary} ids and {@code classes} classes. */
  public static byte[] graph(int vocabulary, int classes, long seed) {
    Random random = new Random(seed);
    float[] table = new float[vocabulary * WIDTH];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) random.nextGaussian();
    }
    float[] weights = new float[WIDTH * classes];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextGaussian() * 2);
    }
    float[] bias = new float[classes];
    for (int i = 0; i < classes; i++) {
      bias[i] = (float) (random.nextGaussian() * 0.1);
    }
    OnnxGraphWriter g = new OnnxGraphWriter("text_classifier")
        .input("input_ids", INT64, "batch", "sequence")
        .input("attention_mask", INT64, "batch", "sequence")
        .initializer("table", new long[] {vocabulary, WIDTH}, table)
        .initializer("weights", new long[] {WIDTH, classes}, weights)
        .initializer("bias", new long[] {classes}, bias)
        .initializerInt64("axis1", new long[] {1}, new long[] {1})
        .initializerInt64("axis2", new long[] {1}, new long[] {2});
    g.node("Gather", List.of("table", "input_ids"), List.of("tokens")); // [batch, sequence, width]
    g.node("Cast", List.of("attention_mask"), List.of("mask"), Attribute.ofInt("to", FLOAT.code));
    g.node("Unsqueeze", List.of("mask", "axis2"), List.of("mask3"));
    g.node("Mul", List.of("tokens", "mask3"), List.of("masked"));
    g.node("ReduceSum", List.of("masked", "axis1"), List.of("summed"), Attribute.ofInt("keepdims", 0));
    g.node("ReduceSum", List.of("mask", "axis1"), List.of("count"), Attribute.ofInt("keepdims", 1));
    g.node("Div", List.of("summed", "count"), List.of("pooled")); // mean over real tokens: padding never counts
    g.node("MatMul", List.of("pooled", "weights"), List.of("scaled"));
    g.node("Add", List.of("scaled", "bias"), List.of(LOGITS));
    g.output(LOGITS, FLOAT, "batch", classes);
    return g.toByteArray();
  }
}

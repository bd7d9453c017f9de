package io.kinfer.topology.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a shadow comparison says for class scores, embeddings and named labels. */
class ShadowComparatorTest {

  @Test
  void shouldCompareEmbeddingsByCosineAndNotByArgmax() {
    // Same direction, different length (what a quantized model's unnormalised output can do): cosine 1.
    Tensor a = fp32("embedding", 0.6f, 0.8f, 0f);
    Tensor b = fp32("embedding", 0.3f, 0.4f, 0f);
    ShadowComparator.Comparison same = ShadowComparator.compare(List.of(a), List.of(b));
    assertThat(same.cosine()).isCloseTo(1.0, within(1e-9));
    assertThat(same.maxAbsDiff()).isCloseTo(0.4, within(1e-6));
    assertThat(same.top1Agree()).as("an embedding's argmax is not a class").isNull();
    assertThat(ShadowComparator.top1(List.of(a))).isEqualTo(-1);

    ShadowComparator.Comparison turned = ShadowComparator.compare(List.of(a), List.of(fp32("embedding", 0.8f, 0.6f, 0f)));
    assertThat(turned.cosine()).isCloseTo(0.96, within(1e-6));
    ShadowComparator.Comparison opposite = ShadowComparator.compare(List.of(a),
        List.of(fp32("embedding", -0.6f, -0.8f, 0f)));
    assertThat(opposite.cosine()).isCloseTo(-1.0, within(1e-9));
  }

  @Test
  void shouldTakeTheLowestCosineOverOutputsAndMinusOneForMismatchedSizes() {
    List<Tensor> primary = List.of(fp32("scores", 1f, 0f), fp32("other", 1f, 1f));
    List<Tensor> shadow = List.of(fp32("scores", 1f, 0f), fp32("other", 1f, 0f));
    ShadowComparator.Comparison c = ShadowComparator.compare(primary, shadow);
    assertThat(c.cosine()).isCloseTo(Math.sqrt(0.5), within(1e-7));
    assertThat(c.top1Agree()).as("the first vector decides top-1").isTrue();

    ShadowComparator.Comparison sizes = ShadowComparator.compare(List.of(fp32("scores", 1f, 0f)),
        List.of(fp32("scores", 1f, 0f, 0f)));
    assertThat(sizes.cosine()).isEqualTo(-1.0);
    assertThat(sizes.top1Agree()).isFalse();
    assertThat(ShadowComparator.compare(List.of(fp32("y", 3f)), List.of(fp32("y", 2f))).cosine())
        .as("a scalar has no direction").isNull();
    assertThat(ShadowComparator.cosine(new float[2], new float[2])).isEqualTo(1.0);
    assertThat(ShadowComparator.cosine(new float[2], new float[] {1, 0})).isEqualTo(0.0);
  }

  @Test
  void shouldDecideTop1ByTheNamedLabelWhenTheAnswerNamesOne() {
    // Sorted top-k scores: argmax is always 0, so only the label can tell a changed decision.
    List<Tensor> primary = List.of(label("positive"), fp32("scores", 0.9f, 0.1f));
    List<Tensor> sameLabel = List.of(label("positive"), fp32("scores", 0.8f, 0.2f));
    List<Tensor> otherLabel = List.of(label("negative"), fp32("scores", 0.7f, 0.3f));
    assertThat(ShadowComparator.compare(primary, sameLabel).top1Agree()).isTrue();
    assertThat(ShadowComparator.compare(primary, otherLabel).top1Agree()).isFalse();
    assertThat(ShadowComparator.top1(primary)).isEqualTo(-1);
    assertThat(ShadowComparator.top1(List.of(fp32("scores", 0.1f, 0.9f)))).isEqualTo(1);
  }

  private static Tensor fp32(String name, float... values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    raw.flip();
    return Tensor.newBuilder().setName(name).setDatatype(Datatype.FP32).setShape(List.of(1L, (long) values.length))
        .setRaw(raw).build();
  }

  private static Tensor label(String value) {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    ByteBuffer raw = ByteBuffer.allocate(4 + utf8.length).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).put(utf8);
    raw.flip();
    return Tensor.newBuilder().setName("label").setDatatype(Datatype.BYTES).setShape(List.of(1L)).setRaw(raw).build();
  }
}

package io.kinfer.client.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.worker.models.PackagedModels;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.models.TextMix;
import io.kinfer.worker.repository.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadRequestsTest {
  /** The one string a text request carries, read back from OIP's raw BYTES form. */
  private static String carried(InferenceRequest request) {
    assertThat(request.getInputs()).hasSize(1);
    Tensor t = request.getInputs().get(0);
    assertThat(t.getName()).isEqualTo(ModelConfig.TEXT_INPUT);
    assertThat(t.getDatatype()).isEqualTo(Datatype.BYTES);
    assertThat(t.getShape()).containsExactly(1L);
    ByteBuffer raw = t.getRaw().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    byte[] element = new byte[raw.getInt()];
    raw.get(element);
    assertThat(raw.remaining()).isZero();
    return new String(element, StandardCharsets.UTF_8);
  }

  @Test
  void shouldSendTheLinesOfTheTextsFileInTurnSkippingBlankOnes(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("texts.txt"), "where is my order?\r\n\n   \nCafé in Zürich 🙂\nlast line");

    RequestFactory factory = LoadRequests.factory("t", 1, "anything", null, file);

    List<String> sent = java.util.stream.LongStream.range(0, 5).mapToObj(i -> carried(factory.request(i))).toList();
    assertThat(sent).containsExactly("where is my order?", "Café in Zürich 🙂", "last line", "where is my order?",
        "Café in Zürich 🙂");
    assertThat(factory.request(0).getModel()).isEqualTo("anything");
    assertThat(factory.index(factory.request(4).getId())).isEqualTo(4);
  }

  @Test
  void shouldRefuseATextsFileOverTheSizeLimitOrWithoutTexts(@TempDir Path dir) throws Exception {
    Path big = Files.writeString(dir.resolve("big.txt"), "x".repeat(101));
    Path blank = Files.writeString(dir.resolve("blank.txt"), "\n  \n");
    Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});

    assertThatThrownBy(() -> LoadRequests.readTexts(big, 100, 1000)).hasMessageContaining("101 bytes, over the limit"
        + " of 100");
    assertThatThrownBy(() -> LoadRequests.readTexts(big, 1000, 50)).hasMessageContaining("line 1 is 101 bytes")
        .hasMessageContaining("max_text_bytes=50");
    assertThatThrownBy(() -> LoadRequests.readTexts(blank, 1000, 1000)).hasMessageContaining("has no texts");
    assertThatThrownBy(() -> LoadRequests.readTexts(latin1, 1000, 1000)).hasMessageContaining("is not UTF-8");
  }

  /** The model.json text section decides: strings of the generated mix for it, features for the MLP. */
  @Test
  void shouldTellTextModelsFromTheirModelJson(@TempDir Path dir) throws Exception {
    SampleModels.writeAll(dir);
    PackagedModels.importMiniLmText(dir, "minilm-text", "1", 8);

    RequestFactory text = LoadRequests.factory("t", 3, "minilm-text", dir, null);
    RequestFactory mlp = LoadRequests.factory("t", 3, SampleModels.MLP, dir, null);

    assertThat(carried(text.request(7))).isEqualTo(TextMix.text(3, 7));
    assertThat(mlp.request(7).getInputs().get(0).getShape()).containsExactly(1L, (long) SampleModels.MLP_FEATURES);
    assertThatThrownBy(() -> LoadRequests.factory("t", 3, SampleModels.MLP, dir, dir.resolve("any.txt")))
        .hasMessageContaining("is not a text model");
    assertThatThrownBy(() -> LoadRequests.factory("t", 3, "minilm-text", null, null))
        .hasMessageContaining("Add --models DIR");
    assertThatThrownBy(() -> LoadRequests.factory("t", 3, "nope", dir, null)).hasMessageContaining("No version of nope");
  }
}

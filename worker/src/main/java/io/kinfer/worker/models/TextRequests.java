package io.kinfer.worker.models;

import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import io.kinfer.schemas.TensorData;
import io.kinfer.worker.repository.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Requests for a text model: one string as {@code text} BYTES [1], in OIP's typed or raw form. */
public final class TextRequests {
  private TextRequests() {}

  /** The typed form: {@code data.strings} holds the one string. */
  public static InferenceRequest typed(String id, String model, String text) {
    Tensor t = Tensor.newBuilder().setName(ModelConfig.TEXT_INPUT).setDatatype(Datatype.BYTES).setShape(List.of(1L))
        .setData(TensorData.newBuilder().setStrings(List.of(text)).build()).build();
    return InferenceRequest.newBuilder().setId(id).setModel(model).setInputs(List.of(t)).build();
  }

  /** OIP's raw BYTES form of the text's UTF-8. */
  public static InferenceRequest raw(String id, String model, String text) {
    return raw(id, model, text.getBytes(StandardCharsets.UTF_8));
  }

  /** OIP's raw BYTES form: a 4-byte little-endian length, then the element's bytes (any bytes, even not UTF-8). */
  public static InferenceRequest raw(String id, String model, byte[] element) {
    ByteBuffer raw = ByteBuffer.allocate(4 + element.length).order(ByteOrder.LITTLE_ENDIAN);
    raw.putInt(element.length).put(element).flip();
    Tensor t = Tensor.newBuilder().setName(ModelConfig.TEXT_INPUT).setDatatype(Datatype.BYTES).setShape(List.of(1L))
        .setRaw(raw).build();
    return InferenceRequest.newBuilder().setId(id).setModel(model).setInputs(List.of(t)).build();
  }
}

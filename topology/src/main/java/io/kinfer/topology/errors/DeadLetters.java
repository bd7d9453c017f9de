package io.kinfer.topology.errors;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.ReceivedHeader;
import io.kinfer.schemas.ReceivedRecord;
import io.kinfer.topology.HeaderNames;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Dead-letter copies of requests that decoded but could not be served (unknown model, invalid
 * tensor, engine failure): the key, value and headers exactly as read from the request topic
 * (kept in {@link BufferedRequest#getReceived()} while buffered), plus headers saying what went
 * wrong and where the record came from. Only a request buffered by an older worker, without
 * those bytes, is re-encoded (under the request topic's subject).
 */
public final class DeadLetters {
  public static final String STAGE_ROUTE = "route";
  public static final String STAGE_INFER = "infer";

  private DeadLetters() {}

  /** The record as read, to keep while the request is buffered. */
  /**
   * Largest request whose exact bytes travel with it through the buffer (and its changelog) for a
   * possible dead-letter copy. They double the buffered record: above this a request near the
   * producer's 1 MB max.request.size would make its changelog record too large and stall the
   * partition, so larger requests are dead-lettered re-encoded (same fields, the worker's schema).
   */
  public static final int MAX_KEPT_BYTES = 256 * 1024;

  public static ReceivedRecord received(byte[] key, byte[] value, Headers headers) {
    List<ReceivedHeader> kept = new ArrayList<>();
    for (Header h : headers) {
      kept.add(new ReceivedHeader(h.key(), h.value() == null ? null : ByteBuffer.wrap(h.value())));
    }
    return new ReceivedRecord(key == null ? null : ByteBuffer.wrap(key), ByteBuffer.wrap(value), kept);
  }

  /** The original headers as read. */
  public static Headers headers(ReceivedRecord received) {
    Headers headers = new RecordHeaders();
    for (ReceivedHeader h : received.getHeaders()) {
      headers.add(h.getName(), bytes(h.getValue()));
    }
    return headers;
  }

  /** {@code original} followed by the error and source headers. */
  public static Headers headers(Headers original, String errorClass, String message, String stage,
      String sourceTopic, int partition, long offset) {
    Headers headers = new RecordHeaders();
    for (Header h : original) {
      headers.add(h);
    }
    headers(errorClass, message, stage, sourceTopic, partition, offset).forEach(headers::add);
    return headers;
  }

  public static Headers headers(String errorClass, String message, String stage, String sourceTopic,
      BufferedRequest request) {
    return headers(errorClass, message, stage, sourceTopic, request.getSourcePartition(), request.getSourceOffset());
  }

  public static Headers headers(String errorClass, String message, String stage, String sourceTopic, int partition,
      long offset) {
    Headers headers = new RecordHeaders();
    add(headers, HeaderNames.ERROR_CLASS, errorClass);
    add(headers, HeaderNames.ERROR_MESSAGE, message);
    add(headers, HeaderNames.ERROR_STAGE, stage);
    add(headers, HeaderNames.SOURCE_TOPIC, sourceTopic);
    add(headers, HeaderNames.SOURCE_PARTITION, Integer.toString(partition));
    add(headers, HeaderNames.SOURCE_OFFSET, Long.toString(offset));
    return headers;
  }

  /** A copy of the buffer's bytes (the buffer itself is left as it was). */
  public static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return null;
    }
    ByteBuffer view = buffer.duplicate();
    byte[] out = new byte[view.remaining()];
    view.get(out);
    return out;
  }

  /**
   * The dead-letter sink's serializer: bytes as read pass through unchanged; a String key (of a
   * request buffered without its bytes) is UTF-8, a value object goes through {@code reencode}.
   */
  public static <T> Serializer<Object> passThrough(Serializer<T> reencode, Class<T> type) {
    return (topic, data) -> {
      if (data == null || data instanceof byte[]) {
        return (byte[]) data;
      }
      if (data instanceof String s) {
        return s.getBytes(StandardCharsets.UTF_8);
      }
      return reencode.serialize(topic, type.cast(data));
    };
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, String.valueOf(value).getBytes(StandardCharsets.UTF_8));
  }
}

package io.kinfer.topology.errors;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.topology.HeaderNames;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers of a dead-letter copy of a request that decoded but could not be served (unknown model,
 * invalid tensor, engine failure). The request itself is re-encoded in the wire format under the
 * request topic's subject, so it reads back like the original.
 */
public final class DeadLetters {
  public static final String STAGE_ROUTE = "route";
  public static final String STAGE_INFER = "infer";

  private DeadLetters() {}

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

  private static void add(Headers headers, String name, String value) {
    headers.add(name, String.valueOf(value).getBytes(StandardCharsets.UTF_8));
  }
}

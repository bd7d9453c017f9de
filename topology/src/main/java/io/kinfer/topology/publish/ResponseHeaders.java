package io.kinfer.topology.publish;

import io.kinfer.schemas.InferenceResponse;
import io.kinfer.topology.HeaderNames;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Copies routing facts of a response into record headers, so consumers can filter unparsed. */
public final class ResponseHeaders {
  private ResponseHeaders() {}

  public static Headers of(InferenceResponse response) {
    Headers headers = new RecordHeaders();
    add(headers, HeaderNames.MODEL, response.getModel());
    add(headers, HeaderNames.VERSION, response.getVersion());
    add(headers, HeaderNames.VARIANT, response.getVariant());
    add(headers, HeaderNames.PLAN_GENERATION, Long.toString(response.getPlanGeneration()));
    add(headers, HeaderNames.STATUS, response.getStatus().name());
    return headers;
  }

  private static void add(Headers headers, String name, String value) {
    if (value != null) {
      headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
  }
}

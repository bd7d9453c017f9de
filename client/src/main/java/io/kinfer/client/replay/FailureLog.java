package io.kinfer.client.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Requests a replay could not decode or run: all in failures.jsonl, the first few in the report. */
final class FailureLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EXAMPLES = 20;
  private final BufferedWriter out;
  private final List<Map<String, Object>> examples = new ArrayList<>();
  private long count;

  FailureLog(Path file) throws IOException {
    this.out = Files.newBufferedWriter(file);
  }

  /** @param id null when the record could not be decoded */
  void add(ConsumerRecord<byte[], byte[]> r, String id, String stage, String error) throws IOException {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("id", id);
    line.put("stage", stage);
    line.put("error", error);
    line.put("partition", r.partition());
    line.put("offset", r.offset());
    out.write(JSON.writeValueAsString(line));
    out.newLine();
    count++;
    if (examples.size() < EXAMPLES) {
      examples.add(line);
    }
  }

  Map<String, Object> toReport() {
    return Map.of("count", count, "file", "failures.jsonl", "examples", examples);
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}

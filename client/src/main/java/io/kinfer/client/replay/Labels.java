package io.kinfer.client.replay;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Ground truth joined by request id: a topic whose records are keyed by request id with the true
 * class index as a UTF-8 decimal value (the last record for an id wins). Held in memory, so it is
 * capped: more labels than {@code maxLabels} is an error that says so, not an OOM.
 */
final class Labels {
  private Labels() {}

  static Map<String, Integer> read(RangeReader reader, TopicRange range, int maxLabels, long[] malformed)
      throws Exception {
    Map<String, Integer> labels = new HashMap<>();
    reader.read(range, () -> false, chunk -> {
      for (var r : chunk) {
        if (r.key() == null || r.value() == null) {
          malformed[0]++;
          continue;
        }
        try {
          labels.put(new String(r.key(), StandardCharsets.UTF_8),
              Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8).trim()));
        } catch (NumberFormatException e) {
          malformed[0]++;
        }
        if (labels.size() > maxLabels) {
          throw new IllegalStateException("The labels topic " + range.topic() + " holds more than " + maxLabels
              + " labels; raise --max-labels (about 100 bytes of heap each) or label a shorter range");
        }
      }
    });
    return labels;
  }
}

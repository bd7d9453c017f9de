package io.kinfer.dev.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses Prometheus text exposition strictly enough to fail on malformed output: every non-comment
 * line must be {@code name[{labels}] value}; returns series (name with labels as printed) to value.
 */
public final class PrometheusText {
  private PrometheusText() {}

  public static Map<String, Double> parse(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int split = line.lastIndexOf(' ');
      if (split <= 0) {
        throw new IllegalArgumentException("Not a Prometheus sample line: " + line);
      }
      String series = line.substring(0, split);
      if (!series.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*})?")) {
        throw new IllegalArgumentException("Bad series name: " + line);
      }
      out.put(series, Double.parseDouble(line.substring(split + 1)));
    }
    return out;
  }
}

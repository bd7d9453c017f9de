package io.kinfer.client.replay;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a replay or compare report: {@code report.json} for pipelines and {@code report.html} for
 * people, self-contained (inline SVG charts, no script, no network) and well-formed XHTML so it
 * opens anywhere and can be checked by an XML parser. The HTML is drawn from the same JSON document,
 * so the two never disagree; reading it back is this class's job alone.
 */
public final class ReportWriter {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReportWriter() {}

  public static void write(Path dir, Report report) throws IOException {
    Files.createDirectories(dir);
    Map<String, Object> document = tree(report);
    // NaN is not JSON: written as null.
    Files.writeString(dir.resolve("report.json"), JSON.writeValueAsString(sanitize(document)));
    Files.writeString(dir.resolve("report.html"), html(document));
  }

  /** The report as report.json has it (typed parts as plain maps and lists), which the HTML is drawn from. */
  static Map<String, Object> tree(Report report) {
    return JSON.convertValue(report, new TypeReference<Map<String, Object>>() {});
  }

  @SuppressWarnings("unchecked")
  private static Object sanitize(Object value) {
    if (value instanceof Map<?, ?> m) {
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      m.forEach((k, v) -> out.put(String.valueOf(k), sanitize(v)));
      return out;
    }
    if (value instanceof List<?> l) {
      return l.stream().map(ReportWriter::sanitize).toList();
    }
    if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
      return null;
    }
    return value;
  }

  @SuppressWarnings("unchecked")
  static String html(Map<String, Object> report) {
    StringBuilder h = new StringBuilder();
    String title = "kinfer " + report.get("kind") + " report";
    h.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n")
        .append("<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"UTF-8\"/>")
        .append("<title>").append(esc(title)).append("</title><style>")
        .append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}")
        .append(".partial{background:#fff3cd;border:2px solid #e0a800;padding:1em;font-weight:bold}")
        .append(".fail{color:#b00020;font-weight:bold}.pass{color:#1b7f3b;font-weight:bold}")
        .append("svg{background:#fafafa;border:1px solid #ddd;margin:.5em 0}</style></head><body>\n");
    h.append("<h1>").append(esc(title)).append("</h1>\n");
    if (Boolean.TRUE.equals(report.get("partial"))) {
      h.append("<p class=\"partial\" id=\"partial\">PARTIAL REPORT: ").append(esc(report.get("partialReason")))
          .append(". The figures cover only the records read before it stopped.</p>\n");
    }
    h.append("<p>Generated ").append(esc(report.get("generatedAt"))).append(" in ")
        .append(esc(report.get("durationSeconds"))).append(" s.</p>\n");
    table(h, "Summary", (Map<String, Object>) report.get("summary"), List.of());
    rows(h, "Rollout phases", (List<Map<String, Object>>) report.get("rollout"));
    table(h, "Source", (Map<String, Object>) report.get("source"), List.of("partitions"));
    table(h, "Counts", (Map<String, Object>) report.get("counts"), List.of());
    gates(h, (List<Map<String, Object>>) report.get("gates"));
    Map<String, Object> versions = (Map<String, Object>) report.get("versions");
    if (versions != null && !versions.isEmpty()) {
      h.append("<h2>Versions (engine work in this run)</h2>\n");
      grid(h, versions);
    }
    int n = 0;
    for (Map<String, Object> c : (List<Map<String, Object>>) report.getOrDefault("comparisons", List.of())) {
      n++;
      h.append("<h2 id=\"comparison-").append(n).append("\">").append(esc(c.get("candidate"))).append(" vs ")
          .append(esc(c.get("baseline"))).append("</h2>\n");
      table(h, "Metrics", (Map<String, Object>) c.get("metrics"), List.of());
      Map<String, Object> diff = (Map<String, Object>) c.get("absDiff");
      histogram(h, "Largest absolute output difference per request",
          (List<Map<String, Object>>) diff.get("histogram"));
      Map<String, Object> cosine = (Map<String, Object>) c.get("cosine");
      if (cosine != null) {
        table(h, "Cosine similarity of vector outputs", cosine, List.of());
        histogram(h, "Cosine similarity per request", (List<Map<String, Object>>) cosine.get("histogram"));
      }
      timeline(h, (List<Map<String, Object>>) c.get("timeline"));
      if (c.get("confusion") != null) {
        confusion(h, (Map<String, Object>) c.get("confusion"));
      }
      if (c.get("accuracy") != null) {
        accuracy(h, (Map<String, Object>) c.get("accuracy"));
      }
    }
    Map<String, Object> failures = (Map<String, Object>) report.get("failures");
    if (failures != null && ((Number) failures.get("count")).longValue() > 0) {
      h.append("<h2>Failures: ").append(num(failures.get("count"))).append(" (all in ")
          .append(esc(failures.get("file"))).append(")</h2>\n<table><tr><th>id</th><th>stage</th><th>partition</th>")
          .append("<th>offset</th><th>error</th></tr>\n");
      for (Map<String, Object> f : (List<Map<String, Object>>) failures.get("examples")) {
        h.append("<tr><td>").append(num(f.get("id"))).append("</td><td>").append(esc(f.get("stage")))
            .append("</td><td>").append(num(f.get("partition"))).append("</td><td>").append(num(f.get("offset")))
            .append("</td><td style=\"text-align:left\">").append(esc(f.get("error"))).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    if (report.get("abTest") != null) {
      Map<String, Object> ab = (Map<String, Object>) report.get("abTest");
      h.append("<h2>A/B outcome (recorded answers vs labels)</h2>\n");
      grid(h, (Map<String, Object>) ab.get("accuracy"));
      for (Map<String, Object> t : (List<Map<String, Object>>) ab.get("tests")) {
        h.append("<p>").append(esc(t.get("b"))).append(" vs ").append(esc(t.get("a"))).append(": ")
            .append(esc(t.get("verdict"))).append(" — ").append(esc(t.get("method"))).append("</p>\n");
      }
    }
    h.append("</body></html>\n");
    return h.toString();
  }

  private static void gates(StringBuilder h, List<Map<String, Object>> gates) {
    if (gates == null || gates.isEmpty()) {
      return;
    }
    h.append("<h2>Gates</h2>\n<table id=\"gates\"><tr><th>comparison</th><th>gate</th><th>value</th><th>result</th></tr>\n");
    for (Map<String, Object> g : gates) {
      boolean passed = Boolean.TRUE.equals(g.get("passed"));
      h.append("<tr><td>").append(esc(g.get("subject"))).append("</td><td>").append(esc(g.get("gate")))
          .append("</td><td>").append(num(g.get("value"))).append("</td><td class=\"").append(passed ? "pass" : "fail")
          .append("\">").append(passed ? "PASS" : "FAIL").append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void table(StringBuilder h, String title, Map<String, Object> values, List<String> skip) {
    if (values == null) {
      return;
    }
    h.append("<h3>").append(esc(title)).append("</h3>\n<table>");
    values.forEach((k, v) -> {
      if (!skip.contains(k) && !(v instanceof Map) && !(v instanceof List)) {
        h.append("<tr><th>").append(esc(k)).append("</th><td>").append(num(v)).append("</td></tr>");
      }
    });
    h.append("</table>\n");
  }

  /** Every key of the rows, in first-seen order. */
  private static List<String> columns(List<Map<String, Object>> rows) {
    java.util.LinkedHashSet<String> keys = new java.util.LinkedHashSet<>();
    rows.forEach(r -> keys.addAll(r.keySet()));
    return new ArrayList<>(keys);
  }

  /** A table with a row per map and a column per key (nested values written as text). */
  private static void rows(StringBuilder h, String title, List<Map<String, Object>> rows) {
    if (rows == null || rows.isEmpty()) {
      return;
    }
    List<String> columns = columns(rows);
    h.append("<h3>").append(esc(title)).append("</h3>\n<table><tr>");
    columns.forEach(c -> h.append("<th>").append(esc(c)).append("</th>"));
    h.append("</tr>\n");
    for (Map<String, Object> r : rows) {
      h.append("<tr>");
      columns.forEach(c -> h.append("<td>").append(num(r.get(c))).append("</td>"));
      h.append("</tr>\n");
    }
    h.append("</table>\n");
  }

  /** Rows = keys of {@code rows}, columns = keys of their (flat) values. */
  @SuppressWarnings("unchecked")
  private static void grid(StringBuilder h, Map<String, Object> rows) {
    List<String> columns = columns(rows.values().stream().map(r -> (Map<String, Object>) r).toList());
    h.append("<table><tr><th></th>");
    columns.forEach(c -> h.append("<th>").append(esc(c)).append("</th>"));
    h.append("</tr>\n");
    rows.forEach((name, r) -> {
      h.append("<tr><th>").append(esc(name)).append("</th>");
      columns.forEach(c -> h.append("<td>").append(num(((Map<String, Object>) r).get(c))).append("</td>"));
      h.append("</tr>\n");
    });
    h.append("</table>\n");
  }

  private static void histogram(StringBuilder h, String title, List<Map<String, Object>> buckets) {
    long max = 1;
    for (Map<String, Object> b : buckets) {
      max = Math.max(max, ((Number) b.get("count")).longValue());
    }
    int w = 60;
    int height = 200;
    h.append("<h3>").append(esc(title)).append("</h3>\n<svg class=\"chart histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(w * buckets.size() + 40).append("\" height=\"").append(height + 60).append("\">");
    for (int i = 0; i < buckets.size(); i++) {
      long count = ((Number) buckets.get(i).get("count")).longValue();
      // Square-root scale so rare large differences stay visible next to the bulk.
      double bar = count == 0 ? 0 : Math.max(1, height * Math.sqrt((double) count / max));
      int x = 20 + i * w;
      h.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#3b6ea8\"><title>%s: %d</title></rect>",
          x, 20 + height - bar, w - 8, bar, esc(buckets.get(i).get("bucket")), count));
      h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>", x, height + 35,
          esc(buckets.get(i).get("bucket"))));
      h.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\">%d</text>", x, 15 + height - bar,
          count));
    }
    h.append("</svg>\n");
  }

  private static void timeline(StringBuilder h, List<Map<String, Object>> points) {
    if (points == null || points.isEmpty()) {
      return;
    }
    int width = 720;
    int height = 200;
    long t0 = ((Number) points.get(0).get("minute")).longValue();
    long t1 = Math.max(t0 + 1, ((Number) points.get(points.size() - 1).get("minute")).longValue());
    StringBuilder top1 = new StringBuilder();
    StringBuilder within = new StringBuilder();
    StringBuilder markers = new StringBuilder();
    for (Map<String, Object> p : points) {
      double x = 40 + (width - 60) * (double) (((Number) p.get("minute")).longValue() - t0) / (t1 - t0);
      double y = 10 + height * (1 - ((Number) p.get("top1Agreement")).doubleValue());
      top1.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      within.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, 10 + height * (1 - ((Number) p.get("agreement")).doubleValue())));
      if (points.size() <= 240) { // a dot per minute, so a short run (one point) still shows
        markers.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1b7f3b\"><title>%s: %d compared, top-1 %.4f</title></circle>",
            x, y, java.time.Instant.ofEpochMilli(((Number) p.get("minute")).longValue()), ((Number) p.get("compared")).longValue(),
            ((Number) p.get("top1Agreement")).doubleValue()));
      }
    }
    h.append("<h3>Agreement per minute</h3>\n<svg class=\"chart timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(width).append("\" height=\"").append(height + 40).append("\">")
        .append("<line x1=\"40\" y1=\"10\" x2=\"40\" y2=\"").append(height + 10).append("\" stroke=\"#999\"/>")
        .append("<text x=\"2\" y=\"14\" font-size=\"10\">100%</text><text x=\"8\" y=\"").append(height + 10)
        .append("\" font-size=\"10\">0%</text>")
        .append("<polyline fill=\"none\" stroke=\"#1b7f3b\" stroke-width=\"2\" points=\"").append(top1.toString().trim())
        .append("\"><title>top-1 agreement</title></polyline>")
        .append("<polyline fill=\"none\" stroke=\"#3b6ea8\" stroke-width=\"1\" stroke-dasharray=\"4 2\" points=\"")
        .append(within.toString().trim()).append("\"><title>agreement within tolerance</title></polyline>")
        .append(markers)
        .append("<text x=\"50\" y=\"").append(height + 32).append("\" font-size=\"11\">green: top-1 agreement;")
        .append(" blue dashed: all outputs within tolerance; ").append(points.size()).append(" minute(s)</text></svg>\n");
  }

  @SuppressWarnings("unchecked")
  private static void confusion(StringBuilder h, Map<String, Object> c) {
    List<List<Number>> matrix = (List<List<Number>>) c.get("matrix");
    long max = 1;
    for (List<Number> row : matrix) {
      for (Number v : row) {
        max = Math.max(max, v.longValue());
      }
    }
    h.append("<h3>Top-1 confusion (rows: baseline, columns: candidate)</h3>\n<table class=\"confusion\"><tr><th></th>");
    for (int j = 0; j < matrix.size(); j++) {
      h.append("<th>").append(j).append("</th>");
    }
    h.append("</tr>\n");
    for (int i = 0; i < matrix.size(); i++) {
      h.append("<tr><th>").append(i).append("</th>");
      for (int j = 0; j < matrix.size(); j++) {
        long v = matrix.get(i).get(j).longValue();
        double shade = v == 0 ? 0 : 0.15 + 0.85 * Math.log1p(v) / Math.log1p(max);
        String colour = i == j ? "27,127,59" : "176,0,32";
        h.append(String.format(Locale.ROOT, "<td style=\"background:rgba(%s,%.2f)\">%d</td>", colour, shade, v));
      }
      h.append("</tr>\n");
    }
    h.append("</table>\n");
  }

  @SuppressWarnings("unchecked")
  private static void accuracy(StringBuilder h, Map<String, Object> a) {
    h.append("<h3>Accuracy against labels</h3>\n");
    Map<String, Object> rows = new java.util.LinkedHashMap<>();
    rows.put("baseline", a.get("baseline"));
    rows.put("candidate", a.get("candidate"));
    grid(h, rows);
    Map<String, Object> test = (Map<String, Object>) a.get("test");
    h.append("<p>").append(esc(test.get("verdict"))).append(" — ").append(esc(test.get("method"))).append("</p>\n");
  }

  private static String num(Object v) {
    if (v == null) {
      return "–";
    }
    if (v instanceof Double d) {
      return d.isNaN() ? "n/a" : esc(String.format(Locale.ROOT, "%.6g", d));
    }
    return esc(v);
  }

  private static String esc(Object v) {
    String s = String.valueOf(v);
    StringBuilder out = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        default -> out.append(ch);
      }
    }
    return out.toString();
  }
}

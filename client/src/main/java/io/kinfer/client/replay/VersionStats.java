package io.kinfer.client.replay;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Engine work of one version during a replay: rows, failures, and batch latency (HdrHistogram). */
final class VersionStats {
  private final Histogram batchMicros = new Histogram(60_000_000L, 3);
  private long rows;
  private long failed;
  private long engineNanos;

  void batch(int size, long nanos) {
    rows += size;
    engineNanos += nanos;
    batchMicros.recordValue(Math.min(60_000_000L, Math.max(1, nanos / 1000)));
  }

  void failed() {
    failed++;
  }

  Map<String, Object> toReport() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("rows", rows);
    r.put("failed", failed);
    r.put("batches", batchMicros.getTotalCount());
    r.put("rowsPerEngineSecond", engineNanos == 0 ? Double.NaN : rows * 1e9 / engineNanos);
    r.put("meanMicrosPerRow", rows == 0 ? Double.NaN : engineNanos / 1000.0 / rows);
    r.put("batchMicrosP50", batchMicros.getValueAtPercentile(50));
    r.put("batchMicrosP99", batchMicros.getValueAtPercentile(99));
    r.put("batchMicrosMax", batchMicros.getMaxValue());
    return r;
  }
}

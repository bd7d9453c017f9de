package io.kinfer.client.replay;

import java.io.PrintStream;

/** One status line every couple of seconds on a long run: done / total, rate, ETA. */
public final class Progress {
  private final PrintStream out;
  private final String what;
  private final long total;
  private final long startNanos = System.nanoTime();
  private long lastPrint;

  public Progress(PrintStream out, String what, long total) {
    this.out = out;
    this.what = what;
    this.total = total;
  }

  public void update(long done, boolean force) {
    long now = System.nanoTime();
    if (out == null || (!force && now - lastPrint < 2_000_000_000L)) {
      return;
    }
    lastPrint = now;
    double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
    double rate = done / seconds;
    String eta = total > 0 && rate > 0 ? String.format("%.0f s", Math.max(0, (total - done) / rate)) : "?";
    out.printf("%s: %,d / %,d records (%.1f%%), %,.0f/s, ETA %s%n", what, done, total,
        total == 0 ? 100.0 : 100.0 * done / total, rate, eta);
  }
}

package io.kinfer.dev.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToLongFunction;
import javax.imageio.ImageIO;

/** Latency vs offered load as a PNG (Java2D, headless): p50, p90, p99, p99.9 on a log scale, and the p99 target. */
final class LatencyChart {
  private static final int W = 900;
  private static final int H = 520;
  private static final int LEFT = 80;
  private static final int RIGHT = 170;
  private static final int TOP = 50;
  private static final int BOTTOM = 70;

  private LatencyChart() {}

  /** One percentile's line: its name in the legend, its colour, where it comes from. */
  private record Series(String name, Color colour, ToLongFunction<LatencyBench.Point> value) {}

  private static final List<Series> SERIES = List.of(
      new Series("p50", new Color(27, 127, 59), LatencyBench.Point::p50),
      new Series("p90", new Color(59, 110, 168), LatencyBench.Point::p90),
      new Series("p99", new Color(224, 130, 0), LatencyBench.Point::p99),
      new Series("p99.9", new Color(176, 0, 32), LatencyBench.Point::p999));

  /** The scales: log10 of the latency axis' ends (1 ms up), and the load axis' end. */
  private record Scale(double logMin, double logMax, double xMax) {}

  static void write(Path png, String title, List<LatencyBench.Point> points, double targetP99Ms) throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    double maxMs = targetP99Ms;
    double maxX = 0;
    for (LatencyBench.Point p : points) {
      maxMs = Math.max(maxMs, p.max());
      maxX = Math.max(maxX, p.offeredRps());
    }
    Scale scale = new Scale(0, Math.ceil(Math.log10(Math.max(10, maxMs * 1.2))), maxX * 1.1);
    boolean text = true;
    try {
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.getFontMetrics();
    } catch (RuntimeException | Error noFonts) {
      text = false; // a JRE without fonts still gets the lines
    }
    grid(g, scale, text);
    if (text) {
      labels(g, title, points, scale);
    }
    int legendY = TOP + 10;
    for (Series series : SERIES) {
      line(g, series, points, scale);
      g.drawLine(W - RIGHT + 15, legendY, W - RIGHT + 40, legendY);
      if (text) {
        g.drawString(series.name(), W - RIGHT + 48, legendY + 4);
      }
      legendY += 20;
    }
    int ty = y(targetP99Ms, scale);
    g.setColor(new Color(224, 130, 0));
    g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
    g.drawLine(LEFT, ty, W - RIGHT, ty);
    if (text) {
      g.drawString(String.format("p99 target %.0f ms", targetP99Ms), W - RIGHT + 15, ty + 4);
    }
    g.dispose();
    java.nio.file.Files.createDirectories(png.toAbsolutePath().getParent()); // --out may name a new directory
    ImageIO.write(image, "png", png.toFile());
  }

  /** Horizontal lines at 1, 2 and 5 per decade, labelled when there are fonts; the plot's frame. */
  private static void grid(Graphics2D g, Scale scale, boolean text) {
    Color line = new Color(225, 225, 225);
    for (int d = (int) scale.logMin(); d < scale.logMax(); d++) {
      for (int m : new int[] {1, 2, 5}) {
        double v = m * Math.pow(10, d);
        int y = y(v, scale);
        g.setColor(line);
        g.drawLine(LEFT, y, W - RIGHT, y);
        if (text) {
          g.setColor(Color.DARK_GRAY);
          g.drawString(String.format("%,.0f ms", v), 8, y + 4);
        }
      }
    }
    g.setColor(Color.GRAY);
    g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
  }

  private static void labels(Graphics2D g, String title, List<LatencyBench.Point> points, Scale scale) {
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (LatencyBench.Point p : points) {
      int x = x(p.offeredRps(), scale.xMax());
      g.drawString(String.format("%,.0f/s", p.offeredRps()), x - 25, H - BOTTOM + 18);
      g.drawString(String.format("(%.0f%%)", p.fraction() * 100), x - 15, H - BOTTOM + 33);
    }
    g.drawString("offered load, requests/s (share of measured capacity); latency = produce to visible under read_committed",
        LEFT, H - 15);
  }

  /** A dot per load step joined by lines; leaves the series' colour and stroke set for its legend entry. */
  private static void line(Graphics2D g, Series series, List<LatencyBench.Point> points, Scale scale) {
    g.setColor(series.colour());
    g.setStroke(new BasicStroke(2.5f));
    int px = -1;
    int py = -1;
    for (LatencyBench.Point p : points) {
      int x = x(p.offeredRps(), scale.xMax());
      int y = y(Math.max(1, series.value().applyAsLong(p)), scale);
      g.fillOval(x - 4, y - 4, 8, 8);
      if (px >= 0) {
        g.drawLine(px, py, x, y);
      }
      px = x;
      py = y;
    }
  }

  private static int x(double rps, double xMax) {
    return LEFT + (int) Math.round((W - LEFT - RIGHT) * rps / xMax);
  }

  private static int y(double ms, Scale scale) {
    double f = (Math.log10(ms) - scale.logMin()) / (scale.logMax() - scale.logMin());
    return H - BOTTOM - (int) Math.round((H - TOP - BOTTOM) * f);
  }
}

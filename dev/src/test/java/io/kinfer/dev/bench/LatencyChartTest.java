package io.kinfer.dev.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyChartTest {
  @TempDir
  Path dir;

  @Test
  void shouldDrawEveryPercentileAndTheTargetIntoAPng() throws Exception {
    List<LatencyBench.Point> points = List.of(point(0.25, 250, 12, 40), point(0.5, 500, 15, 60),
        point(0.9, 900, 40, 400));
    Path png = dir.resolve("charts/latency.png");
    LatencyChart.write(png, "test chart", points, 100);

    BufferedImage image = ImageIO.read(png.toFile());
    assertThat(image.getWidth()).isEqualTo(900);
    assertThat(image.getHeight()).isEqualTo(520);
    // Each series' colour shows up (its dots and lines), and the target's dashes share p99's orange.
    for (int rgb : new int[] {0x1B7F3B, 0x3B6EA8, 0xE08200, 0xB00020}) {
      assertThat(count(image, rgb)).as("pixels of #%06X", rgb).isGreaterThan(20);
    }
  }

  private static LatencyBench.Point point(double fraction, double rps, long p50, long p99) {
    return new LatencyBench.Point(fraction, rps, rps, 1000, p50, p50 * 2, p99, p99 * 2, p99 * 3, 8, p50, p99, p50, p99);
  }

  private static long count(BufferedImage image, int rgb) {
    long n = 0;
    for (int x = 0; x < image.getWidth(); x++) {
      for (int y = 0; y < image.getHeight(); y++) {
        n += (image.getRGB(x, y) & 0xFFFFFF) == rgb ? 1 : 0;
      }
    }
    return n;
  }
}

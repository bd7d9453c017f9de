package io.kinfer.topology.route;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

/**
 * Maps (routing key, model, salt) to a point in [0, 1) with Kafka's murmur2, so one entity always
 * lands in the same weight bucket while a plan's salt is unchanged (what A/B analysis needs), on
 * every worker and across restarts.
 */
public final class StickyHash {
  private static final double SCALE = 1.0 / (1L << 31);

  private StickyHash() {}

  public static double bucket(String key, String model, String salt) {
    byte[] bytes = (key + '\u0000' + model + '\u0000' + salt).getBytes(StandardCharsets.UTF_8);
    return Utils.toPositive(Utils.murmur2(bytes)) * SCALE;
  }
}

package io.kinfer.topology.route;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import java.util.ArrayList;
import java.util.List;

/**
 * An accepted rollout plan of one model, ready for routing: serving versions with cumulative
 * weights, shadow versions with sample rates, and optional batching overrides.
 */
public record Plan(String model, long generation, String salt, List<Serving> serving, List<Shadow> shadows,
    Integer maxBatchSize, Long maxWaitMs, ControlCommand command) {

  /** A version that answers requests; {@code upTo} is the cumulative weight bound of its bucket. */
  public record Serving(String version, Role role, double weight, double upTo) {}

  /** A version that sees a sampled copy of the traffic. */
  public record Shadow(String version, double sampleRate) {}

  /**
   * Validates and converts a command; throws {@link IllegalArgumentException} saying what is wrong.
   */
  public static Plan of(ControlCommand command) {
    List<Serving> serving = new ArrayList<>();
    List<Shadow> shadows = new ArrayList<>();
    double total = 0;
    boolean primary = false;
    for (Route route : command.getRoutes()) {
      if (route.getWeight() < 0 || Double.isNaN(route.getWeight())) {
        throw new IllegalArgumentException("negative or NaN weight for version " + route.getVersion());
      }
      if (route.getRole() == Role.SHADOW) {
        if (route.getWeight() > 1) {
          throw new IllegalArgumentException("shadow sample rate must be within [0, 1], was " + route.getWeight());
        }
        shadows.add(new Shadow(route.getVersion(), route.getWeight()));
      } else {
        primary |= route.getRole() == Role.PRIMARY;
        total += route.getWeight();
        serving.add(new Serving(route.getVersion(), route.getRole(), route.getWeight(), total));
      }
    }
    if (serving.isEmpty() || total <= 0) {
      throw new IllegalArgumentException("a plan needs at least one serving version with positive weight");
    }
    if (!primary && serving.stream().noneMatch(s -> s.role() == Role.VARIANT)) {
      throw new IllegalArgumentException("a plan needs a PRIMARY version (or A/B VARIANTs)");
    }
    if (Math.abs(total - 1.0) > 1e-6) {
      throw new IllegalArgumentException("serving weights must sum to 1, sum to " + total);
    }
    return new Plan(command.getModel(), command.getGeneration(), command.getSalt(), List.copyOf(serving),
        List.copyOf(shadows), command.getMaxBatchSize(), command.getMaxWaitMs(), command);
  }

  /** The serving version whose bucket holds {@code point} in [0, 1). */
  public Serving servingAt(double point) {
    for (Serving s : serving) {
      if (point < s.upTo()) {
        return s;
      }
    }
    return serving.get(serving.size() - 1);
  }

  /** Every version the plan needs loaded. */
  public List<String> versions() {
    List<String> out = new ArrayList<>();
    serving.forEach(s -> out.add(s.version()));
    shadows.forEach(s -> out.add(s.version()));
    return out;
  }
}

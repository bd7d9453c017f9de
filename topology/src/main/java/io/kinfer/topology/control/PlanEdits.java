package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rollout operations as rules: how each turns the plan in force into the next plan's routes.
 * Pure functions of plans; {@code ops ctl} reads the plans, signs and publishes what these return,
 * and workers check the result again ({@link io.kinfer.topology.route.Plan#of}).
 */
public final class PlanEdits {
  private PlanEdits() {}

  /** Blue/green: {@code version} takes 100% at once; shadows end. */
  public static List<Route> deploy(String version) {
    return List.of(new Route(version, Role.PRIMARY, 1.0));
  }

  /** The primary keeps (100 - percent)%, {@code version} gets percent% as CANARY; other shadows stay. */
  public static List<Route> canary(ControlCommand current, String version, double percent) {
    if (!(percent > 0 && percent < 100)) {
      throw new IllegalArgumentException("--percent must be between 0 and 100 (exclusive), was " + percent);
    }
    String primary = current.getRoutes().stream().filter(r -> r.getRole() == Role.PRIMARY).map(Route::getVersion)
        .findFirst().orElseThrow(() -> new IllegalStateException("The plan of " + current.getModel()
            + " has no PRIMARY to canary against; deploy one first: ops ctl deploy " + current.getModel() + " VERSION"));
    if (primary.equals(version)) {
      throw new IllegalArgumentException(version + " is already the PRIMARY of " + current.getModel()
          + "; canary a different version");
    }
    List<Route> routes = new ArrayList<>();
    routes.add(new Route(primary, Role.PRIMARY, 1 - percent / 100));
    routes.add(new Route(version, Role.CANARY, percent / 100));
    current.getRoutes().stream().filter(r -> r.getRole() == Role.SHADOW && !r.getVersion().equals(version))
        .forEach(routes::add);
    return routes;
  }

  /** A/B: variants with weights, normalised to 1 (sticky per routing key); shadows end. */
  public static List<Route> ab(Map<String, Double> weights) {
    double total = weights.values().stream().mapToDouble(Double::doubleValue).sum();
    if (weights.size() < 2 || !(total > 0)) {
      throw new IllegalArgumentException("A/B needs at least two versions with positive weights, e.g. 1=50 2=50");
    }
    List<Route> routes = new ArrayList<>();
    weights.forEach((v, w) -> routes.add(new Route(v, Role.VARIANT, w / total)));
    return routes;
  }

  /** Adds (or replaces) a shadow version with a sample rate in (0, 1]; serving is unchanged. */
  public static List<Route> shadow(ControlCommand current, String version, double sample) {
    if (!(sample > 0 && sample <= 1)) {
      throw new IllegalArgumentException("--sample must be in (0, 1], was " + sample);
    }
    List<Route> routes = new ArrayList<>(current.getRoutes().stream()
        .filter(r -> !(r.getRole() == Role.SHADOW && r.getVersion().equals(version))).toList());
    routes.add(new Route(version, Role.SHADOW, sample));
    return routes;
  }

  /** The canary (else the only shadow) becomes the primary at 100%. */
  public static List<Route> promote(ControlCommand current) {
    String candidate = current.getRoutes().stream().filter(r -> r.getRole() == Role.CANARY).map(Route::getVersion)
        .findFirst().orElseGet(() -> {
          List<String> shadows = current.getRoutes().stream().filter(r -> r.getRole() == Role.SHADOW)
              .map(Route::getVersion).toList();
          if (shadows.size() != 1) {
            throw new IllegalStateException("Nothing to promote for " + current.getModel() + ": the plan has no"
                + " CANARY and " + shadows.size() + " shadows; use 'ops ctl deploy " + current.getModel() + " VERSION'");
          }
          return shadows.get(0);
        });
    return deploy(candidate);
  }

  /** The plan in force before the current one, from a model's plans in the order they were issued. */
  public static ControlCommand rollbackTarget(String model, List<ControlCommand> history) {
    if (history.size() < 2) {
      throw new IllegalStateException("No earlier plan of " + model + " to roll back to (" + history.size()
          + " plan(s) issued)");
    }
    return history.get(history.size() - 2);
  }

  /** The next plan's generation: above the plan in force and every plan issued (workers apply only newer ones). */
  public static long nextGeneration(Optional<ControlCommand> current, List<ControlCommand> history) {
    return Math.max(current.map(ControlCommand::getGeneration).orElse(0L),
        history.stream().mapToLong(ControlCommand::getGeneration).max().orElse(0L)) + 1;
  }
}

package io.kinfer.topology.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.groups.Tuple.tuple;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Role;
import io.kinfer.schemas.Route;
import io.kinfer.topology.route.Plan;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlanEditsTest {
  static ControlCommand plan(long generation, Route... routes) {
    return ControlCommand.newBuilder().setModel("mlp").setGeneration(generation).setRoutes(List.of(routes))
        .setSalt("s").setIssuer("test").setIssuedAt(Instant.EPOCH).build();
  }

  static Route route(String version, Role role, double weight) {
    return new Route(version, role, weight);
  }

  /** What workers would make of the routes: a plan they accept. */
  static Plan accepted(List<Route> routes) {
    return Plan.of(plan(2, routes.toArray(Route[]::new)));
  }

  @Test
  void shouldCanaryAgainstThePrimaryAndKeepTheOtherShadows() {
    ControlCommand current = plan(1, route("1", Role.PRIMARY, 1.0), route("3", Role.SHADOW, 0.5), route("2", Role.SHADOW, 1.0));

    List<Route> routes = PlanEdits.canary(current, "2", 10);

    assertThat(routes).extracting(Route::getVersion, Route::getRole)
        .containsExactly(tuple("1", Role.PRIMARY), tuple("2", Role.CANARY), tuple("3", Role.SHADOW));
    assertThat(routes.get(0).getWeight()).isCloseTo(0.9, within(1e-12));
    assertThat(routes.get(1).getWeight()).isCloseTo(0.1, within(1e-12));
    accepted(routes);
  }

  @Test
  void shouldRefuseACanaryWithoutAPrimaryOfThePrimaryItselfOrOutsideZeroToHundred() {
    ControlCommand ab = plan(1, route("1", Role.VARIANT, 0.5), route("2", Role.VARIANT, 0.5));
    assertThatThrownBy(() -> PlanEdits.canary(ab, "3", 10)).hasMessageContaining("no PRIMARY")
        .hasMessageContaining("ops ctl deploy mlp VERSION");
    ControlCommand single = plan(1, route("1", Role.PRIMARY, 1.0));
    assertThatThrownBy(() -> PlanEdits.canary(single, "1", 10)).hasMessageContaining("already the PRIMARY");
    for (double percent : new double[] {0, 100, -5, Double.NaN}) {
      assertThatThrownBy(() -> PlanEdits.canary(single, "2", percent)).hasMessageContaining("--percent");
    }
  }

  @Test
  void shouldNormaliseAbWeightsAndNeedTwoVersions() {
    Map<String, Double> weights = new LinkedHashMap<>();
    weights.put("1", 30.0);
    weights.put("2", 90.0);

    List<Route> routes = PlanEdits.ab(weights);

    assertThat(routes).extracting(Route::getRole).containsOnly(Role.VARIANT);
    assertThat(routes).extracting(Route::getWeight).containsExactly(0.25, 0.75);
    accepted(routes);
    assertThatThrownBy(() -> PlanEdits.ab(Map.of("1", 1.0))).hasMessageContaining("at least two versions");
    assertThatThrownBy(() -> PlanEdits.ab(Map.of("1", 0.0, "2", 0.0))).hasMessageContaining("positive weights");
  }

  @Test
  void shouldAddOrReplaceAShadowAndLeaveServingAlone() {
    ControlCommand current = plan(1, route("1", Role.PRIMARY, 1.0), route("2", Role.SHADOW, 0.1));

    List<Route> routes = PlanEdits.shadow(current, "2", 0.5);

    assertThat(routes).containsExactly(route("1", Role.PRIMARY, 1.0), route("2", Role.SHADOW, 0.5));
    accepted(routes);
    assertThatThrownBy(() -> PlanEdits.shadow(current, "2", 0)).hasMessageContaining("--sample");
    assertThatThrownBy(() -> PlanEdits.shadow(current, "2", 1.5)).hasMessageContaining("--sample");
  }

  @Test
  void shouldPromoteTheCanaryElseTheOnlyShadow() {
    assertThat(PlanEdits.promote(plan(1, route("1", Role.PRIMARY, 0.9), route("2", Role.CANARY, 0.1),
        route("3", Role.SHADOW, 1.0)))).containsExactly(route("2", Role.PRIMARY, 1.0));
    assertThat(PlanEdits.promote(plan(1, route("1", Role.PRIMARY, 1.0), route("3", Role.SHADOW, 1.0))))
        .containsExactly(route("3", Role.PRIMARY, 1.0));
    assertThatThrownBy(() -> PlanEdits.promote(plan(1, route("1", Role.PRIMARY, 1.0), route("2", Role.SHADOW, 1.0),
        route("3", Role.SHADOW, 1.0)))).hasMessageContaining("Nothing to promote").hasMessageContaining("2 shadows");
  }

  @Test
  void shouldRollBackToThePlanBeforeTheCurrentOneAndNumberAboveEveryPlanIssued() {
    ControlCommand first = plan(1, route("1", Role.PRIMARY, 1.0));
    ControlCommand second = plan(2, route("2", Role.PRIMARY, 1.0));
    assertThat(PlanEdits.rollbackTarget("mlp", List.of(first, second))).isSameAs(first);
    assertThatThrownBy(() -> PlanEdits.rollbackTarget("mlp", List.of(first))).hasMessageContaining("No earlier plan");

    // A plan issued but not (yet) the one in force still counts: generations never repeat.
    assertThat(PlanEdits.nextGeneration(Optional.of(first), List.of(first, plan(7, route("2", Role.PRIMARY, 1.0)))))
        .isEqualTo(8);
    assertThat(PlanEdits.nextGeneration(Optional.empty(), List.of())).isEqualTo(1);
  }
}

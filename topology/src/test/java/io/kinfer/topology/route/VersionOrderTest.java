package io.kinfer.topology.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.topology.ModelVersion;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Which loaded version serves a model that has no plan yet: the highest by this order. */
class VersionOrderTest {
  private static List<String> sorted(String... versions) {
    return Stream.of(versions).map(v -> new ModelVersion("m", v)).sorted(PlanRoutingTable.VERSION_ORDER)
        .map(ModelVersion::version).toList();
  }

  @Test
  void shouldOrderNumbersNumericallyAndReleasesAfterTheirVariants() {
    assertThat(sorted("10", "9", "2", "1")).containsExactly("1", "2", "9", "10");
    assertThat(sorted("2", "1-int8", "1")).containsExactly("1-int8", "1", "2");
    assertThat(sorted("1-int8", "1-fp16", "1")).containsExactly("1-fp16", "1-int8", "1");
    assertThat(sorted("beta", "1", "alpha")).containsExactly("alpha", "beta", "1");
  }
}

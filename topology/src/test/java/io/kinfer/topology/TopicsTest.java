package io.kinfer.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

class TopicsTest {
  @Test
  void shouldPartitionTheOutputsLikeTheRequestsAndCompactOnlyThePlansAndStatus() {
    Topics topics = Topics.defaults();

    assertThat(topics.all().stream().map(t -> t.newTopic(6)).toList())
        .extracting(NewTopic::name, t -> t.numPartitions(), NewTopic::configs)
        .containsExactly(
            tuple("inference.requests", 6, null),
            tuple("inference.predictions", 6, null),
            tuple("inference.dlq", 1, null),
            tuple("inference.shadow", 6, null),
            tuple("inference.comparisons", 6, null),
            tuple("inference.control", 1, Map.of("cleanup.policy", "compact")),
            tuple("inference.status", 1, Map.of("cleanup.policy", "compact")),
            // Rollback reads the plan before the current one: the history must not be compacted.
            tuple("inference.control.history", 1, null));
    assertThat(topics.all()).extracting(t -> t.newTopic(6).replicationFactor()).containsOnly((short) -1);
  }

  @Test
  void shouldLetTheWorkerCreateItsOutputsButNeitherTheRequestsNorTheHistory() {
    Topics topics = new Topics("req", "pred", "dlq", "sh", "cmp", "ctl", "st");

    assertThat(topics.outputs()).extracting(Topics.Spec::name).containsExactly("pred", "dlq", "sh", "cmp", "ctl", "st");
    assertThat(topics.history().name()).isEqualTo("ctl.history");
  }
}

package io.kinfer.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import io.kinfer.schemas.ModelStatus;
import io.kinfer.schemas.registry.InMemorySchemaRegistry;
import java.time.Instant;
import java.util.List;
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

  @Test
  void shouldReadBackWhatItsSerdesWriteAndRefuseSerdesForTheRawDeadLetters() {
    Topics topics = Topics.defaults();
    InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
    ModelStatus status = ModelStatus.newBuilder().setWorker("w-1").setAt(Instant.ofEpochMilli(1_000))
        .setLoaded(List.of()).setAppliedGenerations(Map.of("mlp", 3L)).setEvents(List.of("started")).build();
    byte[] wire = topics.statusTopic().valueSerializer(registry).serialize(topics.status(), status);

    ModelStatus read = topics.statusTopic().valueDeserializer(registry).deserialize(topics.status(), wire);
    assertThat(read.getWorker().toString()).isEqualTo("w-1");
    assertThat(read.getAppliedGenerations().toString()).isEqualTo("{mlp=3}");
    assertThat(registry.subjects()).contains("inference.status-value");
    assertThat(topics.all()).filteredOn(t -> t.valueSchema() == null).extracting(Topics.Spec::name)
        .containsExactly("inference.dlq");
    assertThatThrownBy(() -> topics.deadLettersTopic().valueDeserializer(registry))
        .hasMessageContaining("inference.dlq holds values as they were read");
  }
}

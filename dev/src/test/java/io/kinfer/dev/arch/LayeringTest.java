package io.kinfer.dev.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The layering the build keeps: modules follow the data flow (schemas → topology → worker → client
 * → ops, then dev on top; evaluation, the statistics behind rollout decisions, needs schemas alone) and
 * never reach back, the topology's stages form no cycle, and only the dev stack's embedded broker
 * touches Kafka's internal (unversioned) server APIs. It runs in dev, the one module that sees
 * every other.
 */
class LayeringTest {
  static final JavaClasses PRODUCT = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.kinfer");

  @Test
  void modulesDependOnlyOnTheOnesBeforeThemInTheDataFlow() {
    layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("schemas").definedBy("io.kinfer.schemas..")
        .layer("topology").definedBy("io.kinfer.topology..")
        .layer("worker").definedBy("io.kinfer.worker..")
        .layer("evaluation").definedBy("io.kinfer.evaluation..")
        .layer("client").definedBy("io.kinfer.client..")
        .layer("ops").definedBy("io.kinfer.ops..")
        .layer("dev").definedBy("io.kinfer.dev..")
        .whereLayer("dev").mayNotBeAccessedByAnyLayer()
        .whereLayer("ops").mayOnlyBeAccessedByLayers("dev")
        .whereLayer("client").mayOnlyBeAccessedByLayers("ops", "dev")
        .whereLayer("worker").mayOnlyBeAccessedByLayers("client", "ops", "dev")
        .whereLayer("evaluation").mayOnlyBeAccessedByLayers("client", "ops", "dev")
        .whereLayer("topology").mayOnlyBeAccessedByLayers("worker", "client", "ops", "dev")
        .check(PRODUCT);
  }

  @Test
  void theTopologysStagesFormNoCycle() {
    slices().matching("io.kinfer.topology.(*)..").should().beFreeOfCycles().check(PRODUCT);
  }

  @Test
  void onlyTheEmbeddedBrokerUsesKafkasInternalServerApis() {
    noClasses().that().doNotHaveFullyQualifiedName("io.kinfer.dev.EmbeddedKafka")
        .and().haveNameNotMatching("io\\.kinfer\\.dev\\.EmbeddedKafka\\$.*")
        .should().dependOnClassesThat().resideInAnyPackage("kafka..", "org.apache.kafka.server..",
            "org.apache.kafka.metadata..", "org.apache.kafka.raft..", "org.apache.kafka.coordinator..",
            "org.apache.kafka.storage..", "org.apache.kafka.image..")
        .because("Kafka's broker classes are internal and change between versions; EmbeddedKafka pins them in one place")
        .check(PRODUCT);
  }
}

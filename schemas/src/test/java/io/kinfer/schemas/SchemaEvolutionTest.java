package io.kinfer.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.schemas.registry.CompatibilityLevel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Guards schema evolution: every schema as released (kept under src/test/resources/compat/<release>)
 * must stay readable by the current schema (BACKWARD, as the registry enforces), so a worker
 * upgrade never fails on records already on the topics. Add a directory per release.
 */
class SchemaEvolutionTest {
  static Stream<Path> releasedSchemas() throws IOException {
    return Files.walk(Path.of("src/test/resources/compat")).filter(p -> p.toString().endsWith(".avsc")).sorted();
  }

  private static final List<Schema> CURRENT = List.of(InferenceRequest.getClassSchema(),
      InferenceResponse.getClassSchema(), ShadowComparison.getClassSchema(), ControlCommand.getClassSchema(),
      ModelStatus.getClassSchema(), BufferedRequest.getClassSchema());

  @ParameterizedTest
  @MethodSource("releasedSchemas")
  void shouldReadEveryReleasedSchemaWithTheCurrentOne(Path released) throws IOException {
    Schema old = new Schema.Parser().parse(Files.readString(released));
    Schema current = CURRENT.stream().filter(s -> s.getFullName().equals(old.getFullName())).findFirst()
        .orElseThrow(() -> new AssertionError(old.getFullName() + " was released but no longer exists"));
    assertThat(CompatibilityLevel.BACKWARD.allows(current, List.of(old)))
        .as(current.getFullName() + " must read records written with " + released).isTrue();
  }
}

package io.kinfer.topology.route;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One primary version per model, chosen by configuration or else the highest loaded version.
 * Requests that pin a version get it when it is loaded.
 */
public final class PrimaryRoutingTable implements RoutingTable {
  public static final String PRIMARY = "PRIMARY";
  public static final String PINNED = "PINNED";

  private final Map<String, ModelVersion> primaries;
  private final Collection<ModelVersion> loaded;

  private PrimaryRoutingTable(Map<String, ModelVersion> primaries, Collection<ModelVersion> loaded) {
    this.primaries = primaries;
    this.loaded = loaded;
  }

  /**
   * @param overrides model name → version to serve; models not named get their highest version
   */
  public static PrimaryRoutingTable of(Collection<ModelVersion> loaded, Map<String, String> overrides) {
    Map<String, ModelVersion> primaries = new TreeMap<>();
    for (ModelVersion mv : loaded) {
      primaries.merge(mv.model(), mv, (a, b) -> VERSION_ORDER.compare(a, b) >= 0 ? a : b);
    }
    overrides.forEach((model, version) -> {
      ModelVersion wanted = new ModelVersion(model, version);
      if (!loaded.contains(wanted)) {
        throw new IllegalArgumentException("Primary version " + wanted + " is not loaded; loaded: " + loaded);
      }
      primaries.put(model, wanted);
    });
    return new PrimaryRoutingTable(Map.copyOf(primaries), java.util.List.copyOf(loaded));
  }

  /** Numeric versions compare as numbers (10 after 9), others as text. */
  static final Comparator<ModelVersion> VERSION_ORDER = Comparator.comparing((ModelVersion mv) -> {
    String v = mv.version();
    return v.chars().allMatch(Character::isDigit) ? String.format("%20s", v) : v;
  });

  @Override
  public Optional<Assignment> assign(String key, InferenceRequest request) {
    if (request.getVersion() != null) {
      ModelVersion pinned = new ModelVersion(request.getModel(), request.getVersion());
      return loaded.contains(pinned) ? Optional.of(new Assignment(pinned, PINNED, 0)) : Optional.empty();
    }
    ModelVersion primary = primaries.get(request.getModel());
    return primary == null ? Optional.empty() : Optional.of(new Assignment(primary, PRIMARY, 0));
  }

  @Override
  public String describe() {
    return loaded.stream().map(ModelVersion::toString).sorted().toList().toString();
  }
}

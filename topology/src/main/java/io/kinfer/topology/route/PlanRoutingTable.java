package io.kinfer.topology.route;

import io.kinfer.schemas.InferenceRequest;
import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.batch.BatchPolicy;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Routes by the rollout plan in force for the request's model: a sticky hash of (key, model, salt)
 * picks the serving version by weight, and sampled shadows are attached. Models without a plan
 * serve their configured primary, else their highest loaded version. A request that pins a version
 * gets it when it is loaded. Plans are swapped atomically by the control plane ({@link #apply});
 * stream threads only read.
 */
public final class PlanRoutingTable implements RoutingTable {
  public static final String PRIMARY = "PRIMARY";
  public static final String PINNED = "PINNED";
  private static final String SHADOW_SALT = "shadow";

  private final Map<String, Plan> plans = new ConcurrentHashMap<>();
  private final Supplier<Set<ModelVersion>> loaded;
  private final Map<String, String> staticPrimaries;

  /**
   * @param loaded what the engine can serve right now
   * @param staticPrimaries model → version for models without a plan (from configuration)
   */
  public PlanRoutingTable(Supplier<Set<ModelVersion>> loaded, Map<String, String> staticPrimaries) {
    this.loaded = loaded;
    this.staticPrimaries = Map.copyOf(staticPrimaries);
  }

  /** Makes {@code plan} the one in force for its model. */
  public void apply(Plan plan) {
    plans.put(plan.model(), plan);
  }

  public Optional<Plan> plan(String model) {
    return Optional.ofNullable(plans.get(model));
  }

  public Map<String, Plan> plans() {
    return Map.copyOf(plans);
  }

  @Override
  public Optional<Assignment> assign(String key, InferenceRequest request) {
    String model = request.getModel();
    Plan plan = plans.get(model);
    long generation = plan == null ? 0 : plan.generation();
    if (request.getVersion() != null) {
      ModelVersion pinned = new ModelVersion(model, request.getVersion());
      return loaded.get().contains(pinned)
          ? Optional.of(new Assignment(pinned, PINNED, generation, List.of())) : Optional.empty();
    }
    String stickyKey = key != null ? key : request.getId();
    if (plan != null) {
      Plan.Serving serving = plan.servingAt(StickyHash.bucket(stickyKey, model, plan.salt()));
      List<String> shadows = plan.shadows().stream()
          .filter(s -> !s.version().equals(serving.version())) // comparing a version with itself proves nothing
          .filter(s -> s.sampleRate() > 0
              && StickyHash.bucket(stickyKey, model, plan.salt() + SHADOW_SALT) < s.sampleRate())
          .map(Plan.Shadow::version).toList();
      return Optional.of(new Assignment(new ModelVersion(model, serving.version()), serving.role().name(),
          generation, shadows));
    }
    return defaultVersion(model).map(v -> new Assignment(v, PRIMARY, 0, List.of()));
  }

  private Optional<ModelVersion> defaultVersion(String model) {
    String configured = staticPrimaries.get(model);
    Set<ModelVersion> now = loaded.get();
    if (configured != null) {
      ModelVersion v = new ModelVersion(model, configured);
      return now.contains(v) ? Optional.of(v) : Optional.empty();
    }
    return now.stream().filter(v -> v.model().equals(model)).max(VERSION_ORDER);
  }

  /**
   * By leading number (10 after 9; none counts as lowest), then a plain version after its suffixed
   * variants ("1" after "1-int8", as a release after its pre-releases), then the suffix as text.
   */
  static final Comparator<ModelVersion> VERSION_ORDER = Comparator
      .comparingLong((ModelVersion mv) -> leadingNumber(mv.version()))
      .thenComparing(mv -> suffix(mv.version()).isEmpty())
      .thenComparing(mv -> suffix(mv.version()));

  private static long leadingNumber(String version) {
    int digits = leadingDigits(version);
    if (digits == 0) {
      return -1;
    }
    return digits > 18 ? Long.MAX_VALUE : Long.parseLong(version.substring(0, digits));
  }

  private static String suffix(String version) {
    return version.substring(leadingDigits(version));
  }

  private static int leadingDigits(String version) {
    int digits = 0;
    while (digits < version.length() && Character.isDigit(version.charAt(digits))) {
      digits++;
    }
    return digits;
  }

  /** The batching policy for a model: the plan's overrides on top of the defaults. */
  public BatchPolicy policy(String model, BatchPolicy defaults) {
    Plan plan = plans.get(model);
    if (plan == null || (plan.maxBatchSize() == null && plan.maxWaitMs() == null)) {
      return defaults;
    }
    return defaults.with(plan.maxBatchSize(), plan.maxWaitMs());
  }

  @Override
  public String describe() {
    return loaded.get().stream().map(ModelVersion::toString).sorted().toList().toString();
  }
}

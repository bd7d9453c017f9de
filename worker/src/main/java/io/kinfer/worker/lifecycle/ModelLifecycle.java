package io.kinfer.worker.lifecycle;

import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.control.PlanPreparer;
import io.kinfer.topology.route.Plan;
import io.kinfer.worker.engine.LoadedModel;
import io.kinfer.worker.engine.OnnxEngine;
import io.kinfer.worker.repository.ModelConfig;
import io.kinfer.worker.repository.ModelConfig.TensorSpec;
import io.kinfer.worker.repository.ModelLoadException;
import io.kinfer.worker.repository.ModelRepository;
import io.kinfer.worker.repository.ModelRepository.VerifiedModel;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads, checks and warms the versions a plan names before it takes effect, and unloads versions no
 * plan needs after a grace period (requests already routed to them, still buffered, drain first).
 * A new version must accept the same inputs as the versions already serving its model: the
 * producers' request contract does not change under them.
 */
public final class ModelLifecycle implements PlanPreparer, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelLifecycle.class);

  private final ModelRepository repository;
  private final OnnxEngine engine;
  private final Duration unloadGrace;
  private final ScheduledExecutorService unloader = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "model-unloader");
    t.setDaemon(true);
    return t;
  });
  private final Map<ModelVersion, ScheduledFuture<?>> pendingUnloads = new ConcurrentHashMap<>();

  public ModelLifecycle(ModelRepository repository, OnnxEngine engine, Duration unloadGrace) {
    this.repository = repository;
    this.engine = engine;
    this.unloadGrace = unloadGrace;
  }

  @Override
  public void prepare(Plan plan) {
    for (String version : plan.versions()) {
      ModelVersion mv = new ModelVersion(plan.model(), version);
      ScheduledFuture<?> pending = pendingUnloads.remove(mv);
      if (pending != null) {
        pending.cancel(false);
      }
      if (engine.loaded().contains(mv)) {
        continue;
      }
      VerifiedModel model = repository.load(mv);
      checkContract(model);
      engine.load(model);
    }
  }

  private void checkContract(VerifiedModel candidate) {
    for (ModelVersion serving : engine.loaded()) {
      if (!serving.model().equals(candidate.version().model())) {
        continue;
      }
      LoadedModel loaded = engine.model(serving);
      if (loaded == null) {
        continue;
      }
      List<TensorSpec> want = loaded.config().requestInputs();
      List<TensorSpec> got = candidate.config().requestInputs();
      if (!new HashSet<>(want).equals(new HashSet<>(got))) {
        throw new ModelLoadException(candidate.version() + " takes inputs " + describe(candidate.config())
            + " but " + serving + " serves requests shaped " + describe(loaded.config())
            + "; a new version must accept the same requests");
      }
      return;
    }
  }

  private static String describe(ModelConfig config) {
    return config.requestInputs().stream().map(i -> i.name() + " " + i.datatype() + " " + i.shape()).toList().toString();
  }

  @Override
  public void retire(Collection<Plan> inForce) {
    Set<ModelVersion> needed = new HashSet<>();
    Set<String> plannedModels = new HashSet<>();
    for (Plan plan : inForce) {
      plannedModels.add(plan.model());
      plan.versions().forEach(v -> needed.add(new ModelVersion(plan.model(), v)));
    }
    for (ModelVersion mv : engine.loaded()) {
      if (plannedModels.contains(mv.model()) && !needed.contains(mv) && !pendingUnloads.containsKey(mv)) {
        pendingUnloads.put(mv, unloader.schedule(() -> unload(mv), unloadGrace.toMillis(), TimeUnit.MILLISECONDS));
      }
    }
  }

  private void unload(ModelVersion mv) {
    if (pendingUnloads.remove(mv) != null) {
      engine.unload(mv);
      LOG.info("Unloaded {}: no plan uses it", mv);
    }
  }

  @Override
  public void close() {
    unloader.shutdownNow();
  }
}

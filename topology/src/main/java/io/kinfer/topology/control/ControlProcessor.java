package io.kinfer.topology.control;

import io.kinfer.schemas.ControlCommand;
import io.kinfer.topology.route.Plan;
import io.kinfer.topology.route.PlanRoutingTable;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The global processor of the control topic: every worker sees every command. A command takes
 * effect only if it decodes, is signed by a trusted key (over the value as written, whatever this
 * worker's schema: {@link ControlSigning}), is newer than the plan in force, is a valid plan, and
 * all its versions load; otherwise it is reported and nothing changes. Kafka Streams replays the
 * topic through this processor on restore, so a restarted worker re-verifies every command and ends
 * on the same plan.
 */
public final class ControlProcessor implements Processor<String, byte[], Void, Void> {
  private static final Logger LOG = LoggerFactory.getLogger(ControlProcessor.class);

  private final String storeName;
  private final ControlRecordDecoder decoder;
  private final CommandVerifier verifier;
  private final PlanPreparer preparer;
  private final PlanRoutingTable routes;
  private final ControlEvents events;
  private String topic;
  private ProcessorContext<Void, Void> context;
  private KeyValueStore<String, byte[]> accepted;

  public ControlProcessor(String storeName, ControlRecordDecoder decoder, CommandVerifier verifier,
      PlanPreparer preparer, PlanRoutingTable routes, ControlEvents events) {
    this.storeName = storeName;
    this.decoder = decoder;
    this.verifier = verifier;
    this.preparer = preparer;
    this.routes = routes;
    this.events = events;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    this.context = context;
    accepted = context.getStateStore(storeName);
    topic = context.recordMetadata().map(m -> m.topic()).orElse("control");
  }

  @Override
  public void process(Record<String, byte[]> record) {
    String model = record.key();
    if (record.value() == null) {
      return; // a tombstone compacts history away; it is not a plan
    }
    ControlEvents.At at = context.recordMetadata()
        .map(m -> new ControlEvents.At(m.partition(), m.offset())).orElse(ControlEvents.At.UNKNOWN);
    ControlRecord received;
    try {
      received = decoder.decode(topic, record.value());
    } catch (RuntimeException e) {
      reject(model, -1, "undecodable control record: " + e.getMessage(), at);
      return;
    }
    ControlCommand command = received.command();
    String problem = check(model, received);
    if (problem != null) {
      reject(command.getModel(), command.getGeneration(), problem, at);
      return;
    }
    Plan plan;
    try {
      plan = Plan.of(command);
      preparer.prepare(plan);
    } catch (RuntimeException e) {
      reject(command.getModel(), command.getGeneration(), e.getMessage() + currentPlanNote(command.getModel()), at);
      return;
    }
    accepted.put(plan.model(), record.value());
    routes.apply(plan);
    preparer.retire(routes.plans().values());
    LOG.info("Applied plan generation {} for {} from {}: {}", plan.generation(), plan.model(),
        command.getIssuer(), command.getRoutes());
    events.applied(plan, at);
  }

  private String check(String key, ControlRecord received) {
    ControlCommand command = received.command();
    if (!command.getModel().equals(key)) {
      return "record key '" + key + "' differs from the command's model '" + command.getModel() + "'";
    }
    String signature = verifier.check(received);
    if (signature != null) {
      return signature;
    }
    Optional<Plan> current = routes.plan(command.getModel());
    if (current.isPresent() && command.getGeneration() <= current.get().generation()) {
      return "stale generation " + command.getGeneration() + " (generation " + current.get().generation()
          + " is in force)";
    }
    return null;
  }

  private String currentPlanNote(String model) {
    return routes.plan(model).map(p -> "; generation " + p.generation() + " keeps serving")
        .orElse("; the default version keeps serving");
  }

  private void reject(String model, long generation, String reason, ControlEvents.At at) {
    LOG.warn("Rejected control command for {} (generation {}): {}", model, generation, reason);
    events.rejected(model, generation, reason, at);
  }
}

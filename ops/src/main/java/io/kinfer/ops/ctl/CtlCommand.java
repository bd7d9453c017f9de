package io.kinfer.ops.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.kinfer.client.control.AutoCanary;
import io.kinfer.client.control.ControlClient;
import io.kinfer.schemas.ControlCommand;
import io.kinfer.schemas.Route;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ops ctl}: change which model version serves, by signed plans on the control topic. */
@Command(name = "ctl", mixinStandardHelpOptions = true,
    description = "Roll model versions out and back: deploy, canary, ab, shadow, promote, rollback, status.",
    subcommands = {CtlCommand.Deploy.class, CtlCommand.Canary.class, CtlCommand.Ab.class, CtlCommand.Shadow.class,
        CtlCommand.Promote.class, CtlCommand.Rollback.class, CtlCommand.Batching.class, StatusCommand.class})
public final class CtlCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs one plan change and prints the plan issued. */
  abstract static class Change implements Callable<Integer> {
    @Mixin CtlOptions options;

    abstract ControlCommand apply(ControlClient client);

    @Override
    public Integer call() throws Exception {
      try (ControlClient client = options.client()) {
        ControlCommand issued = apply(client);
        System.out.println(options.json ? JSON.writeValueAsString(describe(issued)) : text(issued));
        return 0;
      } catch (IllegalStateException | IllegalArgumentException e) {
        System.err.println("ops ctl: " + e.getMessage());
        return 2;
      }
    }
  }

  static Map<String, Object> describe(ControlCommand c) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", c.getModel());
    out.put("generation", c.getGeneration());
    out.put("routes", c.getRoutes().stream().map(r -> Map.of("version", r.getVersion(), "role", r.getRole().name(),
        "weight", r.getWeight())).toList());
    out.put("salt", c.getSalt());
    out.put("max_batch_size", c.getMaxBatchSize());
    out.put("max_wait_ms", c.getMaxWaitMs());
    out.put("issuer", c.getIssuer());
    out.put("issued_at", c.getIssuedAt().toString());
    out.put("key_id", c.getKeyId());
    return out;
  }

  static String text(ControlCommand c) {
    StringBuilder out = new StringBuilder(String.format("%s generation %d (signed by %s, issued by %s)%s%n",
        c.getModel(), c.getGeneration(), c.getKeyId(), c.getIssuer(),
        c.getMaxBatchSize() == null && c.getMaxWaitMs() == null ? ""
            : " batching: max.batch.size " + c.getMaxBatchSize() + ", max.wait.ms " + c.getMaxWaitMs()));
    for (Route r : c.getRoutes()) {
      out.append(String.format("  %-8s v%-6s %s%n", r.getRole(), r.getVersion(),
          r.getRole().name().equals("SHADOW") ? String.format("sample %.0f%%", r.getWeight() * 100)
              : String.format("%.1f%%", r.getWeight() * 100)));
    }
    return out.toString().stripTrailing();
  }

  @Command(name = "deploy", description = "Blue/green: VERSION serves 100% at once.")
  static final class Deploy extends Change {
    @Parameters(index = "0") String model;
    @Parameters(index = "1") String version;

    @Override
    ControlCommand apply(ControlClient client) {
      return client.deploy(model, version);
    }
  }

  @Command(name = "canary", description = "VERSION takes PERCENT of the traffic (sticky per key); the primary keeps the rest.")
  static final class Canary extends Change {
    @Parameters(index = "0") String model;
    @Parameters(index = "1") String version;
    @Option(names = "--percent", required = true) double percent;
    @Option(names = "--auto", description = "also shadow VERSION, watch the live comparisons, then promote if every"
        + " --gate passes or restore the previous plan; the decision goes to the status topic")
    boolean auto;
    @Option(names = "--gate", defaultValue = "top1_agreement>=0.99,failed_rate<=0.001",
        description = "with --auto (default: ${DEFAULT-VALUE})")
    String gate;
    @Option(names = "--min-samples", defaultValue = "1000", description = "with --auto: comparisons before deciding (default: ${DEFAULT-VALUE})")
    long minSamples;
    @Option(names = "--timeout", defaultValue = "PT10M", description = "with --auto: roll back if too few comparisons by then (default: ${DEFAULT-VALUE})")
    java.time.Duration timeout;
    @Option(names = "--report", description = "with --auto: write the comparison report (json + html) here")
    java.nio.file.Path report;

    @Override
    ControlCommand apply(ControlClient client) {
      if (!auto) {
        return client.canary(model, version, percent);
      }
      try {
        AutoCanary.Decision decision = AutoCanary.run(client, options.kafka(),
            options.registry(), options.topics(), model, version,
            new AutoCanary.Settings(percent, io.kinfer.evaluation.Gates.parse(gate), minSamples, timeout, 1e-5),
            System.out);
        if (report != null) {
          io.kinfer.client.replay.ReportWriter.write(report, decision.report());
        }
        System.out.println(decision.reason());
        promoted = decision.promoted();
        return decision.plan();
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("auto-canary failed: " + e.getMessage(), e);
      }
    }

    private boolean promoted = true;

    @Override
    public Integer call() throws Exception {
      int rc = super.call();
      return rc == 0 && !promoted ? 3 : rc;
    }
  }

  @Command(name = "ab", description = "A/B test: ops ctl ab MODEL 1=50 2=50 (weights normalised, sticky per key).")
  static final class Ab extends Change {
    @Parameters(index = "0") String model;
    @Parameters(index = "1..*", arity = "2..*", description = "VERSION=WEIGHT") Map<String, Double> weights;

    @Override
    ControlCommand apply(ControlClient client) {
      return client.ab(model, new LinkedHashMap<>(weights));
    }
  }

  @Command(name = "shadow", description = "VERSION sees a copy of SAMPLE of the traffic; its answers go to the shadow topic only.")
  static final class Shadow extends Change {
    @Parameters(index = "0") String model;
    @Parameters(index = "1") String version;
    @Option(names = "--sample", defaultValue = "1.0", description = "share of requests copied, (0, 1] (default: ${DEFAULT-VALUE})")
    double sample;

    @Override
    ControlCommand apply(ControlClient client) {
      return client.shadow(model, version, sample);
    }
  }

  @Command(name = "promote", description = "The canary (or the single shadow) becomes the primary at 100%.")
  static final class Promote extends Change {
    @Parameters(index = "0") String model;

    @Override
    ControlCommand apply(ControlClient client) {
      return client.promote(model);
    }
  }

  @Command(name = "batching", description = "Per-model batching without restart: max batch size and/or max wait.")
  static final class Batching extends Change {
    @Parameters(index = "0") String model;
    @Option(names = "--max-batch-size") Integer maxBatchSize;
    @Option(names = "--max-wait-ms") Long maxWaitMs;

    @Override
    ControlCommand apply(ControlClient client) {
      if (maxBatchSize == null && maxWaitMs == null) {
        throw new IllegalArgumentException("give --max-batch-size and/or --max-wait-ms");
      }
      return client.batching(model, maxBatchSize, maxWaitMs);
    }
  }

  @Command(name = "rollback", description = "Re-apply the plan that was in force before the current one.")
  static final class Rollback extends Change {
    @Parameters(index = "0") String model;

    @Override
    ControlCommand apply(ControlClient client) {
      return client.rollback(model);
    }
  }
}

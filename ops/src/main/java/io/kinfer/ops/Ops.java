package io.kinfer.ops;

import io.kinfer.ops.bench.BenchCommand;
import io.kinfer.ops.demo.DemoCommand;
import io.kinfer.ops.devstack.DevStackCommand;
import io.kinfer.schemas.serde.AvroSafety;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ops} command line: dev stack, demo, benchmarks, models, docs. */
@Command(name = "ops", mixinStandardHelpOptions = true, version = "kinfer ops 0.1.0",
    description = "Operate the Kafka-native inference worker.",
    subcommands = {DemoCommand.class, DevStackCommand.class, BenchCommand.class, ModelsCommand.class,
        ConfigDocsCommand.class, WorkerCommand.class, io.kinfer.ops.ctl.CtlCommand.class,
        io.kinfer.ops.ctl.KeysCommand.class, io.kinfer.ops.load.LoadCommand.class,
        io.kinfer.ops.security.SecurityCommand.class,
        io.kinfer.ops.replay.ReplayCommand.class,
        io.kinfer.ops.replay.CompareCommand.class})
public final class Ops {
  private Ops() {}

  public static void main(String[] args) {
    AvroSafety.ensureConfigured();
    System.exit(new CommandLine(new Ops()).execute(args));
  }
}

package io.kinfer.ops;

import io.kinfer.ops.ctl.CtlCommand;
import io.kinfer.ops.ctl.KeysCommand;
import io.kinfer.ops.load.LoadCommand;
import io.kinfer.ops.replay.CompareCommand;
import io.kinfer.ops.replay.ReplayCommand;
import io.kinfer.ops.security.SecurityCommand;
import io.kinfer.schemas.serde.AvroSafety;
import java.util.List;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ops} command line: worker, control, replay, load, models, keys, security, docs. */
@Command(name = "ops", mixinStandardHelpOptions = true, version = "kinfer ops 0.1.0",
    description = "Operate the Kafka-native inference worker.",
    subcommands = {WorkerCommand.class, CtlCommand.class, ReplayCommand.class, CompareCommand.class,
        LoadCommand.class, ModelsCommand.class, KeysCommand.class, SecurityCommand.class, ConfigDocsCommand.class})
public final class Ops {
  /** Commands of the dev distribution, named in the hint when they are asked for elsewhere. */
  static final List<String> DEV_COMMANDS = List.of("demo", "devstack", "bench");

  private Ops() {}

  public static void main(String[] args) {
    AvroSafety.ensureConfigured();
    System.exit(commandLine().execute(args));
  }

  /** The built-in commands plus those of every {@link OpsExtension} on the class path. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Ops());
    for (OpsExtension extension : ServiceLoader.load(OpsExtension.class)) {
      extension.commands().forEach(cli::addSubcommand);
    }
    CommandLine.IParameterExceptionHandler standard = cli.getParameterExceptionHandler();
    cli.setParameterExceptionHandler((e, args) -> {
      if (args.length > 0 && DEV_COMMANDS.contains(args[0]) && !cli.getSubcommands().containsKey(args[0])) {
        cli.getErr().printf("'%s' runs on the embedded dev stack, which this distribution leaves out (the worker"
            + " image ships no Kafka broker). Build everything with `mvn -q -DskipTests package` and run"
            + " `java -jar dev/target/kinfer-dev.jar %s`.%n", args[0], args[0]);
        return CommandLine.ExitCode.USAGE;
      }
      return standard.handleParseException(e, args);
    });
    return cli;
  }
}

package io.kinfer.ops.ctl;

import io.kinfer.client.control.OperatorKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ops keys generate}: an Ed25519 key pair for signing control commands. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Signing keys for control commands.",
    subcommands = KeysCommand.Generate.class)
public final class KeysCommand {

  @Command(name = "generate", description = "Write ID.key (keep secret) and ID.pub (give to workers) into DIR.")
  static final class Generate implements Callable<Integer> {
    @Option(names = "--id", defaultValue = "ops", description = "key id (default: ${DEFAULT-VALUE})")
    String id;

    @Option(names = "--dir", defaultValue = "keys", description = "output directory (default: ${DEFAULT-VALUE})")
    Path dir;

    @Override
    public Integer call() throws Exception {
      if (Files.exists(dir.resolve(id + OperatorKey.PRIVATE_SUFFIX))) {
        System.err.println("ops keys: " + dir.resolve(id + OperatorKey.PRIVATE_SUFFIX) + " exists; not overwriting");
        return 2;
      }
      Path key = OperatorKey.ensure(dir, id);
      String pub = Files.readString(dir.resolve(id + OperatorKey.PUBLIC_SUFFIX)).trim();
      System.out.println("private key: " + key + " (sign with: ops ctl --key " + key + " ...)");
      System.out.println("public key:  " + dir.resolve(id + OperatorKey.PUBLIC_SUFFIX));
      System.out.println("trust it on workers with: control.trusted.keys=" + id + "=" + pub);
      System.out.println("  or put the .pub file in the directory named by control.trusted.keys.dir");
      return 0;
    }
  }
}

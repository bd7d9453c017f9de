package io.kinfer.dev;

import io.kinfer.dev.bench.BenchCommand;
import io.kinfer.dev.demo.DemoCommand;
import io.kinfer.ops.OpsExtension;
import java.util.List;

/** The commands that need the embedded stack: added to {@code ops} when kinfer-dev is on the class path. */
public final class DevCommands implements OpsExtension {
  @Override
  public List<Object> commands() {
    return List.of(new DemoCommand(), new DevStackCommand(), new BenchCommand());
  }
}

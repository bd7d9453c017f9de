package io.kinfer.ops;

import java.util.List;

/**
 * Commands a module adds to the {@code ops} command line when it is on the class path, found with
 * {@link java.util.ServiceLoader}: kinfer-dev adds demo, devstack and bench, which need the embedded
 * broker that the ops distribution and the worker image leave out.
 */
public interface OpsExtension {
  /** picocli command objects, each added under its {@code @Command} name. */
  List<Object> commands();
}

package io.kinfer.ops.load;

import io.kinfer.ops.ClusterOptions;
import io.kinfer.topology.Topics;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ops load}: open-loop request generator against any cluster (docker-compose uses it). */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = "Produce sample-model requests at a fixed rate (open loop), with progress.")
public final class LoadCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Option(names = "--topic", defaultValue = Topics.DEFAULT_REQUESTS) String topic;
  @Option(names = "--rate", defaultValue = "500", description = "requests per second (default: ${DEFAULT-VALUE})") double rate;
  @Option(names = "--requests", defaultValue = "0", description = "how many; 0 = until stopped") long requests;
  @Option(names = "--id-prefix", defaultValue = "load", description = "request ids are PREFIX-N") String prefix;

  @Override
  public Integer call() throws java.io.IOException {
    RequestFactory factory = new RequestFactory(prefix + "-" + System.currentTimeMillis(), 1);
    try (LoadGenerator generator = new LoadGenerator(
        cluster.kafka(), cluster.schemaRegistry(), topic, factory)) {
      long chunk = rate > 0 ? Math.max(1, (long) rate) : 10_000; // about one progress line a second
      long start = System.currentTimeMillis();
      for (long sent = 0; requests == 0 || sent < requests; sent += chunk) {
        long n = requests == 0 ? chunk : Math.min(chunk, requests - sent);
        generator.run(sent, n, rate);
        System.out.printf("sent %,d requests (%.0f/s)%n", sent + n, (sent + n) * 1000.0 / Math.max(1, System.currentTimeMillis() - start));
      }
    }
    return 0;
  }
}

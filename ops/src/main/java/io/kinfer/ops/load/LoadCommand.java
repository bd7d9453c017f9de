package io.kinfer.ops.load;

import io.kinfer.client.load.LoadGenerator;
import io.kinfer.client.load.LoadRequests;
import io.kinfer.client.load.RequestFactory;
import io.kinfer.ops.ClusterOptions;
import io.kinfer.topology.Topics;
import io.kinfer.worker.models.SampleModels;
import io.kinfer.worker.repository.ModelLoadException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ops load}: open-loop request generator against any cluster (docker-compose uses it). */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = {"Produce requests at a fixed rate (open loop), with progress: features for the sample MLP, or"
        + " strings for a text model (its model.json in --models has a text section): the lines of --texts FILE,"
        + " or a generated mix of short queries to documents past 256 tokens.",
        "Example: load --model minilm-text --models models --texts queries.txt --rate 100"})
public final class LoadCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Option(names = "--topic", defaultValue = Topics.DEFAULT_REQUESTS) String topic;
  @Option(names = "--rate", defaultValue = "500", description = "requests per second (default: ${DEFAULT-VALUE})") double rate;
  @Option(names = "--requests", defaultValue = "0", description = "how many; 0 = until stopped") long requests;
  @Option(names = "--id-prefix", defaultValue = "load", description = "request ids are PREFIX-N") String prefix;
  @Option(names = "--model", defaultValue = SampleModels.MLP, description = "model the requests name (default:"
      + " ${DEFAULT-VALUE})") String model;
  @Option(names = "--models", description = "the workers' model repository: tells from NAME's model.json whether it"
      + " takes text or FP32 features (needed for any model but the sample mlp, unless --texts)") Path models;
  @Option(names = "--texts", description = "one text per line (UTF-8, blank lines skipped, at most 64 MiB), sent"
      + " in turn as 'text' BYTES [1]; without it a text model gets the generated mix") Path texts;
  @Option(names = "--seed", defaultValue = "1", description = "seed of the generated features or texts (default:"
      + " ${DEFAULT-VALUE})") long seed;

  @Override
  public Integer call() throws java.io.IOException {
    RequestFactory factory;
    try {
      factory = LoadRequests.factory(prefix + "-" + System.currentTimeMillis(), seed, model, models, texts);
    } catch (IllegalArgumentException | ModelLoadException e) {
      System.err.println("ops load: " + e.getMessage());
      return 2;
    }
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

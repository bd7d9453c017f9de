package io.kinfer.dev.bench;

import io.kinfer.topology.ModelVersion;
import io.kinfer.topology.Topics;
import io.kinfer.worker.Worker;
import io.kinfer.worker.WorkerMain;
import io.kinfer.worker.config.WorkerConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;

/**
 * One measured worker of a bench, named by a label: its own topics, application id and worker id,
 * so the runs of one bench share a broker without meeting; started in this JVM or in its own.
 */
final class BenchRun {
  private BenchRun() {}

  /** Request and prediction topics of this run; the rest as by default. */
  static Topics topics(String label) {
    Topics d = Topics.defaults();
    return new Topics("bench." + label + ".requests", "bench." + label + ".predictions", d.deadLetters(), d.shadow(),
        d.comparisons(), d.control(), d.status());
  }

  /** {@code base} plus this run's names, topics and primary version. */
  static Map<String, Object> workerSettings(Map<String, ?> base, String label, Topics topics, ModelVersion version) {
    Map<String, Object> settings = new LinkedHashMap<>(base);
    settings.put(WorkerConfig.APPLICATION_ID_CONFIG, "bench-" + label);
    settings.put(WorkerConfig.WORKER_ID_CONFIG, "bench-" + label);
    settings.put(WorkerConfig.REQUESTS_TOPIC_CONFIG, topics.requests());
    settings.put(WorkerConfig.PREDICTIONS_TOPIC_CONFIG, topics.predictions());
    settings.put(WorkerConfig.MODELS_PRIMARY_CONFIG, version.model() + "=" + version.version());
    return settings;
  }

  /**
   * Starts the worker: with {@code isolateDir} null in this JVM (returns once its streams run),
   * else as WorkerMain in a JVM of its own with its settings and log in that directory.
   */
  static AutoCloseable startWorker(Map<String, Object> settings, Path isolateDir, String label) throws Exception {
    if (isolateDir != null) {
      return ChildJvm.start(WorkerMain.class, List.of(ChildJvm.properties(isolateDir.resolve(label + ".properties"),
          settings).toString()), "-Xmx1g", isolateDir.resolve(label + ".log"));
    }
    Worker worker = Worker.start(new WorkerConfig(settings));
    while (worker.state() != KafkaStreams.State.RUNNING) {
      Thread.sleep(20); // polling a state; nothing to synchronise on
    }
    return worker;
  }
}

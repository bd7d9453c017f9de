package io.kinfer.dev.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * async-profiler in a bench child JVM: CPU samples (perf events, native and kernel frames included)
 * and wall-clock samples of every thread, written as JFR (open it in JDK Mission Control or
 * IntelliJ), then summed up here: CPU by thread, and the stream thread's CPU and wall time by the
 * step of the pipeline it was in.
 */
final class Profiler {
  private static final String LIBRARY = "linux-x64/libasyncProfiler.so";

  /**
   * Thread names → groups (first match wins; the rest is "other"). The producer's I/O thread is
   * named after its stream thread, so it comes first.
   */
  private static final Map<String, String> THREADS = ordered(
      "kafka-producer-network-thread", "producer I/O thread",
      "GlobalStreamThread", "global store (control) thread",
      "StreamThread", "stream thread",
      "heartbeat", "consumer heartbeat thread",
      "GC Thread", "GC", "G1 ", "GC",
      "Compiler", "JIT compiler");

  /**
   * Stream-thread steps by the frames a sample holds (first match wins), so a sample inside the
   * buffer store under our batch processor counts as the store, and our processors keep only what
   * they do themselves.
   */
  private static final Map<String, String> STEPS = ordered(
      "NamedCache.flush", "commit: buffer cache flushed to the changelog",
      "TaskManager.commit", "commit (flush, offsets, end transaction)",
      "StreamsProducer.commitTransaction", "commit (flush, offsets, end transaction)",
      "TaskExecutor.commit", "commit (flush, offsets, end transaction)",
      "StreamThread.pollRequests", "consumer poll (fetch, wait for records)",
      "CachingKeyValueStore", "batch buffer store (cache, changelog)",
      "ChangeLoggingKeyValueBytesStore", "batch buffer store (cache, changelog)",
      "MeteredKeyValueStore", "batch buffer store (cache, changelog)",
      "AvroWireDeserializer", "decode requests (Avro)",
      "AvroWireSerializer", "encode answers (Avro)",
      "KafkaProducer", "producer send (append to batch)",
      "io.kinfer.", "kinfer processors (route, batch, infer, publish, metrics)",
      "org.apache.kafka.streams.", "Kafka Streams per-record path (other)");

  private Profiler() {}

  /** JVM options that start async-profiler with the child and write {@code jfr} when it exits. */
  static List<String> jvmArgs(Path workDir, Path jfr) throws IOException {
    Files.createDirectories(jfr.getParent());
    Path library = workDir.resolve("libasyncProfiler.so");
    if (!Files.exists(library)) {
      try (InputStream in = Profiler.class.getClassLoader().getResourceAsStream(LIBRARY)) {
        if (in == null) {
          throw new IllegalStateException("async-profiler's " + LIBRARY + " is not on the class path; profiling needs"
              + " Linux x64 and the ops jar's lib/ directory");
        }
        Files.createDirectories(workDir);
        Files.copy(in, library, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return List.of("-agentpath:" + library + "=start,event=cpu,interval=1ms,wall=5ms,file=" + jfr);
  }

  /**
   * Per-thread CPU shares and the stream thread's CPU and wall time by step, in percent, over the
   * samples taken between {@code from} and {@code to} (after the child's warm-up, before it stops).
   */
  static Map<String, Object> summarize(Path jfr, Instant from, Instant to) throws IOException {
    Map<String, Long> cpuByThread = new TreeMap<>();
    Map<String, Long> streamCpu = new TreeMap<>();
    Map<String, Long> streamWall = new TreeMap<>();
    try (RecordingFile file = new RecordingFile(jfr)) {
      while (file.hasMoreEvents()) {
        RecordedEvent event = file.readEvent();
        if (!event.getStartTime().isBefore(from) && event.getStartTime().isBefore(to)) {
          count(event, cpuByThread, streamCpu, streamWall);
        }
      }
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("file", jfr.toString());
    r.put("cpu_by_thread_pct", percent(cpuByThread));
    r.put("stream_thread_cpu_by_step_pct", percent(streamCpu));
    r.put("stream_thread_wall_by_step_pct", percent(streamWall));
    return r;
  }

  private static void count(RecordedEvent event, Map<String, Long> cpuByThread, Map<String, Long> streamCpu,
      Map<String, Long> streamWall) {
    String type = event.getEventType().getName();
    boolean cpu = type.equals("jdk.ExecutionSample");
    if (!cpu && !type.equals("profiler.WallClockSample")) {
      return;
    }
    String thread = group(event.<RecordedThread>getValue("sampledThread"));
    long weight = cpu ? 1 : Math.max(1, event.getLong("samples"));
    if (cpu) {
      cpuByThread.merge(thread, weight, Long::sum);
    }
    if (thread.equals("stream thread")) {
      (cpu ? streamCpu : streamWall).merge(step(event.getStackTrace()), weight, Long::sum);
    }
  }

  static void print(Map<String, Object> summary, PrintStream out) {
    out.println("  profile " + summary.get("file"));
    for (String key : List.of("cpu_by_thread_pct", "stream_thread_cpu_by_step_pct", "stream_thread_wall_by_step_pct")) {
      out.println("    " + key.replace("_pct", "").replace('_', ' ') + ":");
      @SuppressWarnings("unchecked")
      Map<String, Double> shares = (Map<String, Double>) summary.get(key);
      shares.forEach((name, pct) -> out.printf("      %5.1f%%  %s%n", pct, name));
    }
  }

  private static String group(RecordedThread thread) {
    String name = thread == null ? "" : thread.getJavaName() != null ? thread.getJavaName() : thread.getOSName();
    return THREADS.entrySet().stream().filter(e -> name != null && name.contains(e.getKey())).map(Map.Entry::getValue)
        .findFirst().orElse("other");
  }

  static String step(RecordedStackTrace stack) {
    if (stack == null) {
      return "other (no stack)";
    }
    // Rules in order: the first one any frame matches decides (a commit that encodes is still the commit).
    List<RecordedFrame> frames = stack.getFrames();
    for (Map.Entry<String, String> rule : STEPS.entrySet()) {
      for (int i = frames.size() - 1; i >= 0; i--) {
        RecordedFrame frame = frames.get(i);
        String name = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
        if (name.contains(rule.getKey())) {
          return rule.getValue();
        }
      }
    }
    return "other (JVM, native)";
  }

  /** Sorted largest first. */
  private static Map<String, Double> percent(Map<String, Long> counts) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Double> r = new LinkedHashMap<>();
    counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> r.put(e.getKey(), Math.round(1000.0 * e.getValue() / Math.max(1, total)) / 10.0));
    return r;
  }

  private static Map<String, String> ordered(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }
}

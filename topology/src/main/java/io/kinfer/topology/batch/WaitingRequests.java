package io.kinfer.topology.batch;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The buffered requests of one model version, oldest first, and the choice of which of them form
 * the next batch. Requests of one length go first in, first out. When lengths differ, the batch is
 * formed around the oldest request (it is the one whose wait or deadline is due) from the waiting
 * requests of the most similar length, as Infinity sorts by length and Apache Beam buckets by size:
 * at least 90% of the batch's padded elements are real, its padded size (rows x longest) stays
 * within the element budget (as Hugging Face TEI's max_batch_tokens), and a request never goes
 * before an older one of the same routing key, so a consumer keeping the latest answer per key never
 * sees an older one last. Pure: no Kafka, tested alone.
 */
public final class WaitingRequests {
  /** How far past the oldest request the choice looks, in multiples of the batch size. */
  static final int WINDOW_BATCHES = 4;
  /** A request joins a batch of other lengths only if real elements stay this share of the padded ones. */
  static final double MIN_PADDING_EFFICIENCY = 0.9;

  /** One buffered request with what the choice needs of it. */
  public record Entry(String storeKey, BufferedRequest request, long deadlineMs, long length, String routingKey) {}

  private final ArrayDeque<Entry> entries = new ArrayDeque<>();
  private final Map<Long, Integer> lengthCounts = new HashMap<>();
  /** Deadlines of waiting requests with their counts, so the earliest is known without a scan. */
  private final TreeMap<Long, Integer> deadlines = new TreeMap<>();
  private long elements;
  private long lastDispatchEndMs = Long.MIN_VALUE;
  private long lastBatchMs;
  private int arrivalsSinceCheck;

  public void add(String storeKey, BufferedRequest request) {
    InferenceRequest r = request.getRequest();
    long deadline = r.getDeadline() == null ? BatchPolicy.NO_DEADLINE : r.getDeadline().toEpochMilli();
    Entry entry = new Entry(storeKey, request, deadline, length(r), request.getKey());
    entries.add(entry);
    lengthCounts.merge(entry.length(), 1, Integer::sum);
    elements += entry.length();
    arrivalsSinceCheck++;
    if (deadline != BatchPolicy.NO_DEADLINE) {
      deadlines.merge(deadline, 1, Integer::sum);
    }
  }

  /**
   * UTF-8 bytes per token, about, for English under WordPiece or BPE: a text's bytes over this
   * estimate the tokens it becomes, so texts are grouped by length before they are tokenized.
   */
  static final int TEXT_BYTES_PER_TOKEN = 4;

  /**
   * A request's length: the elements of its largest input (tokens for a sequence model; for a text,
   * a BYTES input, its bytes / {@value #TEXT_BYTES_PER_TOKEN}). Its row in a batch costs the
   * batch's longest length; it is not validated yet, so nonsense shapes count 1.
   */
  static long length(InferenceRequest request) {
    long longest = 1;
    for (Tensor t : request.getInputs()) {
      long n = 1;
      if (t.getDatatype() == Datatype.BYTES) {
        // A text is shape [1] whatever its length; without this every text would look alike and be
        // batched first in, first out, most batches padded to the longest text's tokens.
        n = textBytes(t) / TEXT_BYTES_PER_TOKEN;
      } else {
        for (long d : t.getShape()) {
          n = d <= 0 ? n : n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
        }
      }
      longest = Math.max(longest, n);
    }
    return longest;
  }

  /** The bytes of a BYTES tensor's elements: raw (length prefixes included) or typed (chars, close enough). */
  private static long textBytes(Tensor t) {
    if (t.getRaw() != null) {
      return t.getRaw().remaining();
    }
    long n = 0;
    if (t.getData() != null) {
      for (CharSequence s : t.getData().getStrings()) {
        n += s.length();
      }
    }
    return n;
  }

  public int size() {
    return entries.size();
  }

  /** The summed lengths of the waiting requests. */
  public long elements() {
    return elements;
  }

  public long oldestEnqueuedMs() {
    return entries.isEmpty() ? Long.MAX_VALUE : entries.peek().request().getEnqueuedAtMs();
  }

  /** The previous batch of this group ran from {@code startMs} to {@code endMs}. */
  public void dispatched(long startMs, long endMs) {
    lastDispatchEndMs = endMs;
    lastBatchMs = Math.max(0, endMs - startMs);
  }

  /** The caller has checked the time bounds: arrivals from now on count towards the next check. */
  public void checked() {
    arrivalsSinceCheck = 0;
  }

  /**
   * Where max wait counts from: the oldest request's arrival. With mixed lengths, no earlier than
   * the end of the previous batch, and not yet while the look-ahead is refilling: while a batch runs
   * the stream thread reads nothing, so right after it every waiting request is due and the next
   * batch would be chosen from the few that arrived before (a commit after the batch alone outlasts
   * a short max wait). So as long as requests keep arriving between two checks (the thread is
   * reading a backlog), the clock starts again, for at most one previous batch's duration and the
   * version's recent engine time per batch; once arrivals pause, or that long has passed, max wait
   * applies as usual. Under light load the
   * previous batch is long past and nothing changes; a full look-ahead and deadlines dispatch as
   * always.
   *
   * @param expectedInferenceMs the version's recent engine time per batch: caps the refill, so a
   *     batch that took long for other reasons (retry backoff, shadow runs) does not stretch it
   */
  public long waitingSinceMs(long nowMs, long expectedInferenceMs) {
    long oldest = oldestEnqueuedMs();
    if (uniformLengths()) {
      return oldest;
    }
    long since = Math.max(oldest, lastDispatchEndMs);
    long refill = Math.min(lastBatchMs, Math.max(0, expectedInferenceMs));
    boolean refilling = arrivalsSinceCheck > 0 && nowMs < lastDispatchEndMs + refill;
    return refilling ? Math.max(since, nowMs) : since;
  }

  public long earliestDeadlineMs() {
    return deadlines.isEmpty() ? BatchPolicy.NO_DEADLINE : deadlines.firstKey();
  }

  /** True when every waiting request has one length (batches go first in, first out). */
  public boolean uniformLengths() {
    return lengthCounts.size() <= 1;
  }

  /**
   * Whether enough is waiting to dispatch without waiting for time: a batch's worth of rows or
   * elements when every request has one length; when lengths differ, enough to fill the look-ahead
   * window, so the choice has similar requests to pick from (a backlog fills it at once; under
   * lighter load the max wait dispatches first).
   */
  public boolean full(int maxRows, long maxElements) {
    int windows = lengthCounts.size() <= 1 ? 1 : WINDOW_BATCHES;
    return entries.size() >= (long) windows * maxRows
        || (maxElements != Long.MAX_VALUE && elements >= windows * maxElements);
  }

  /**
   * Removes and returns the next batch, in arrival order: at most {@code maxRows} requests whose
   * padded size stays within {@code maxElements} (the oldest request always goes, even alone over it).
   */
  public List<Entry> take(int maxRows, long maxElements) {
    if (entries.isEmpty()) {
      return List.of();
    }
    return lengthCounts.size() == 1 ? takeOldest(maxRows, maxElements) : takeSimilar(maxRows, maxElements);
  }

  /** All of one length: first in, first out. */
  private List<Entry> takeOldest(int maxRows, long maxElements) {
    long length = entries.peek().length();
    int rows = (int) Math.max(1, Math.min(Math.min(maxRows, entries.size()), maxElements / length));
    List<Entry> batch = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      batch.add(removed(entries.poll()));
    }
    return batch;
  }

  private List<Entry> takeSimilar(int maxRows, long maxElements) {
    int window = (int) Math.min(entries.size(), (long) WINDOW_BATCHES * maxRows);
    List<Entry> candidates = new ArrayList<>(window);
    for (Entry e : entries) {
      if (candidates.size() == window) {
        break;
      }
      candidates.add(e);
    }
    int[] olderSameKey = olderSameKey(candidates);
    long anchor = candidates.get(0).length();
    List<Integer> order = new ArrayList<>(window);
    for (int i = 1; i < window; i++) {
      order.add(i);
    }
    order.sort(Comparator.comparingLong((Integer i) -> Math.abs(candidates.get(i).length() - anchor))
        .thenComparingInt(i -> i));
    boolean[] chosen = new boolean[window];
    chosen[0] = true;
    int rows = 1;
    long real = anchor;
    long longest = anchor;
    for (int i : order) {
      if (rows >= maxRows) {
        break;
      }
      long length = candidates.get(i).length();
      long newLongest = Math.max(longest, length);
      double padded = (double) (rows + 1) * newLongest;
      boolean similar = (real + length) / padded >= MIN_PADDING_EFFICIENCY;
      boolean fits = padded <= maxElements;
      boolean inKeyOrder = olderSameKey[i] < 0 || chosen[olderSameKey[i]];
      if (similar && fits && inKeyOrder) {
        chosen[i] = true;
        rows++;
        real += length;
        longest = newLongest;
      }
    }
    List<Entry> batch = new ArrayList<>(rows);
    for (int i = 0; i < window; i++) {
      entries.poll();
    }
    for (int i = window - 1; i >= 0; i--) {
      if (!chosen[i]) {
        entries.addFirst(candidates.get(i));
      }
    }
    for (int i = 0; i < window; i++) {
      if (chosen[i]) {
        batch.add(removed(candidates.get(i)));
      }
    }
    return batch;
  }

  /** For each candidate, the index of the closest older candidate with the same routing key, or -1. */
  private static int[] olderSameKey(List<Entry> candidates) {
    int[] older = new int[candidates.size()];
    Map<String, Integer> last = new HashMap<>();
    for (int i = 0; i < candidates.size(); i++) {
      String key = candidates.get(i).routingKey();
      Integer previous = key == null ? null : last.put(key, i);
      older[i] = previous == null ? -1 : previous;
    }
    return older;
  }

  private Entry removed(Entry entry) {
    lengthCounts.computeIfPresent(entry.length(), (k, n) -> n == 1 ? null : n - 1);
    deadlines.computeIfPresent(entry.deadlineMs(), (k, n) -> n == 1 ? null : n - 1);
    elements -= entry.length();
    return entry;
  }
}

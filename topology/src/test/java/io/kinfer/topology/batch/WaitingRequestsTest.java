package io.kinfer.topology.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.schemas.BufferedRequest;
import io.kinfer.schemas.Datatype;
import io.kinfer.schemas.InferenceRequest;
import io.kinfer.schemas.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WaitingRequestsTest {
  private final WaitingRequests waiting = new WaitingRequests();
  private int seq;

  private void add(String id, String key, int length) {
    InferenceRequest request = InferenceRequest.newBuilder().setId(id).setModel("m").setInputs(List.of(
        Tensor.newBuilder().setName("input_ids").setDatatype(Datatype.INT64).setShape(List.of(1L, (long) length))
            .setRaw(ByteBuffer.allocate(8 * length)).build())).build();
    waiting.add(String.format("%08d", seq), BufferedRequest.newBuilder().setKey(key).setRequest(request)
        .setVersion("1").setVariant("primary").setRecordTimestamp(0).setEnqueuedAtMs(seq++).build());
  }

  private void addText(String id, String text, boolean raw) {
    Tensor.Builder t = Tensor.newBuilder().setName("text").setDatatype(Datatype.BYTES).setShape(List.of(1L));
    if (raw) {
      byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      t.setRaw(ByteBuffer.allocate(4 + utf8.length).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(utf8.length)
          .put(utf8).flip());
    } else {
      t.setData(io.kinfer.schemas.TensorData.newBuilder().setStrings(List.of(text)).build());
    }
    InferenceRequest request = InferenceRequest.newBuilder().setId(id).setModel("m").setInputs(List.of(t.build()))
        .build();
    waiting.add(String.format("%08d", seq), BufferedRequest.newBuilder().setKey(id).setRequest(request)
        .setVersion("1").setVariant("primary").setRecordTimestamp(0).setEnqueuedAtMs(seq++).build());
  }

  private static List<String> ids(List<WaitingRequests.Entry> batch) {
    return batch.stream().map(e -> e.request().getRequest().getId()).toList();
  }

  @Test
  void shouldTakeRequestsOfOneLengthFirstInFirstOutWithinRowsAndElements() {
    for (int i = 0; i < 10; i++) {
      add("r" + i, "k" + i, 16);
    }
    assertThat(ids(waiting.take(4, Long.MAX_VALUE))).containsExactly("r0", "r1", "r2", "r3");
    assertThat(ids(waiting.take(8, 48))).containsExactly("r4", "r5", "r6"); // 3 x 16 fills the budget of 48
    assertThat(waiting.size()).isEqualTo(3);
    assertThat(waiting.elements()).isEqualTo(48);
  }

  @Test
  void shouldFormEachBatchAroundTheOldestFromRequestsOfSimilarLength() {
    Random random = new Random(3);
    for (int i = 0; i < 400; i++) {
      int length = random.nextDouble() < 0.8 ? 8 + random.nextInt(25) : 65 + random.nextInt(64);
      add("r" + i, "k" + i, length);
    }
    long real = 0;
    long padded = 0;
    while (waiting.size() > 0) {
      String oldest = "r" + (400 - waiting.size()); // not exact after reordering; checked below instead
      long oldestSeq = waiting.oldestEnqueuedMs();
      List<WaitingRequests.Entry> batch = waiting.take(32, 4096);
      assertThat(batch.get(0).request().getEnqueuedAtMs()).as(oldest).isEqualTo(oldestSeq);
      assertThat(batch).isSortedAccordingTo((a, b) -> Long.compare(a.request().getEnqueuedAtMs(),
          b.request().getEnqueuedAtMs()));
      long longest = batch.stream().mapToLong(WaitingRequests.Entry::length).max().orElseThrow();
      assertThat(batch.size() * longest).isLessThanOrEqualTo(Math.max(4096, longest));
      real += batch.stream().mapToLong(WaitingRequests.Entry::length).sum();
      padded += batch.size() * longest;
    }
    assertThat((double) real / padded).isGreaterThanOrEqualTo(0.9);
  }

  @Test
  void shouldGroupTextsByTheirLengthThoughEveryTextIsShapeOne() {
    String longText = "the committee debates the budget again ".repeat(40); // ~1,560 bytes: ~390 tokens
    for (int i = 0; i < 24; i++) {
      if (i % 8 == 3) {
        addText("long" + i, longText, i % 2 == 0);
      } else {
        addText("short" + i, "hello world #" + i, i % 2 == 0);
      }
    }
    assertThat(waiting.uniformLengths()).as("texts of different lengths are not alike").isFalse();
    List<String> first = ids(waiting.take(8, Long.MAX_VALUE));
    assertThat(first).hasSize(8).allMatch(id -> id.startsWith("short"));
    List<List<String>> rest = new ArrayList<>();
    while (waiting.size() > 0) {
      rest.add(ids(waiting.take(8, Long.MAX_VALUE)));
    }
    assertThat(rest).filteredOn(b -> b.stream().anyMatch(id -> id.startsWith("long")))
        .as("the three long texts travel together, padding no short one to their length")
        .containsExactly(List.of("long3", "long11", "long19"));
  }

  @Test
  void shouldNeverSendARequestBeforeAnOlderOneOfTheSameKey() {
    add("a", "A", 10);
    add("k1", "K", 120); // older, long
    add("k2", "K", 10); // newer, short: similar to the oldest, but must not overtake k1
    add("b", "B", 11);

    assertThat(ids(waiting.take(8, Long.MAX_VALUE))).containsExactly("a", "b");
    assertThat(ids(waiting.take(8, Long.MAX_VALUE))).containsExactly("k1");
    assertThat(ids(waiting.take(8, Long.MAX_VALUE))).containsExactly("k2");
  }

  @Test
  void shouldKeepEveryKeysOrderAcrossAMixedBacklog() {
    Random random = new Random(9);
    Map<String, List<Integer>> sentPerKey = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      String key = "k" + random.nextInt(20);
      add(Integer.toString(i), key, random.nextBoolean() ? 5 + random.nextInt(10) : 60 + random.nextInt(60));
      sentPerKey.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
    }
    Map<String, List<Integer>> answeredPerKey = new HashMap<>();
    while (waiting.size() > 0) {
      for (WaitingRequests.Entry e : waiting.take(16, 2048)) {
        answeredPerKey.computeIfAbsent(e.routingKey(), k -> new ArrayList<>())
            .add(Integer.parseInt(e.request().getRequest().getId()));
      }
    }
    assertThat(answeredPerKey).isEqualTo(sentPerKey);
  }

  @Test
  void shouldCountAsFullAtOneBatchForOneLengthButFillTheLookAheadWhenLengthsDiffer() {
    for (int i = 0; i < 4; i++) {
      add("r" + i, "k" + i, 16);
    }
    assertThat(waiting.full(4, Long.MAX_VALUE)).isTrue();
    add("long", "k", 100);
    assertThat(waiting.full(4, Long.MAX_VALUE)).as("mixed: wait for 4 batches' worth").isFalse();
    for (int i = 5; i < 4 * WaitingRequests.WINDOW_BATCHES; i++) {
      add("r" + i, "k" + i, 16);
    }
    assertThat(waiting.full(4, Long.MAX_VALUE)).isTrue();
    assertThat(waiting.full(100, 85)).as("or 4 budgets' worth of elements: 15 x 16 + 100 = 4 x 85").isTrue();
    assertThat(waiting.full(100, 86)).isFalse();
  }

  @Test
  void shouldTrackTheEarliestDeadlineAsRequestsLeave() {
    InferenceRequest base = InferenceRequest.newBuilder().setId("d").setModel("m").setInputs(List.of()).build();
    long[] deadlines = {500, 300, 900};
    for (int i = 0; i < deadlines.length; i++) {
      InferenceRequest r = InferenceRequest.newBuilder(base).setId("d" + i)
          .setDeadline(java.time.Instant.ofEpochMilli(deadlines[i])).build();
      waiting.add("k" + i, BufferedRequest.newBuilder().setRequest(r).setVersion("1").setVariant("primary")
          .setRecordTimestamp(0).setEnqueuedAtMs(i).build());
    }
    assertThat(waiting.earliestDeadlineMs()).isEqualTo(300);
    waiting.take(2, Long.MAX_VALUE);
    assertThat(waiting.earliestDeadlineMs()).isEqualTo(900);
    waiting.take(2, Long.MAX_VALUE);
    assertThat(waiting.earliestDeadlineMs()).isEqualTo(BatchPolicy.NO_DEADLINE);
  }

  @Test
  void shouldCountMaxWaitOfMixedLengthsFromTheEndOfThePreviousBatch() {
    add("a", "A", 10); // enqueued at 0
    add("b", "B", 10); // at 1
    waiting.dispatched(400, 500);
    waiting.checked();
    assertThat(waiting.waitingSinceMs(900, Long.MAX_VALUE)).as("one length: from the oldest").isZero();
    add("long", "C", 90);
    waiting.checked();
    assertThat(waiting.waitingSinceMs(502, Long.MAX_VALUE)).as("mixed: from the previous batch's end").isEqualTo(500);
  }

  @Test
  void shouldRestartTheClockOfMixedLengthsWhileArrivalsRefillTheLookAheadForAtMostOneBatchDuration() {
    add("a", "A", 10);
    add("long", "B", 90);
    waiting.dispatched(400, 500); // the previous batch took 100 ms
    add("c", "C", 12); // the thread is reading a backlog: arrivals since the last check
    assertThat(waiting.waitingSinceMs(510, Long.MAX_VALUE)).as("refilling: not due yet").isEqualTo(510);
    waiting.checked();
    assertThat(waiting.waitingSinceMs(512, Long.MAX_VALUE)).as("arrivals paused: from the batch's end").isEqualTo(500);
    add("d", "D", 12);
    assertThat(waiting.waitingSinceMs(600, Long.MAX_VALUE)).as("one batch duration has passed: due despite arrivals")
        .isEqualTo(500);
    add("e", "E", 12);
    assertThat(waiting.waitingSinceMs(530, 20)).as("the batch took 100 ms but inference takes 20 (the rest was"
        + " backoff): the refill ends after 20").isEqualTo(500);
    assertThat(waiting.waitingSinceMs(515, 20)).as("within those 20: still refilling").isEqualTo(515);
  }
}

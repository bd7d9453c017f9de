package io.kinfer.topology.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.topology.ModelVersion;
import org.junit.jupiter.api.Test;

/** AIMD on the batch cap and the wait the latency target leaves. */
class AdaptiveBatchingTest {
  private static final ModelVersion V = new ModelVersion("m", "1");
  private static final BatchPolicy CONFIGURED = new BatchPolicy(256, 50, 2);

  @Test
  void shouldLeaveTheConfiguredPolicyAloneWhenOff() {
    AdaptiveBatching off = AdaptiveBatching.off();
    assertThat(off.limit(V, CONFIGURED)).isSameAs(CONFIGURED);
    off.observe(V, 256, 100, 100);
    assertThat(off.limit(V, CONFIGURED)).isSameAs(CONFIGURED);
  }

  @Test
  void shouldGrowTheCapAdditivelyWhileFullBatchesMeetTheTargetUpToTheConfiguredSize() {
    AdaptiveBatching aimd = new AdaptiveBatching(20, 4);
    aimd.limit(V, CONFIGURED);
    BatchPolicy p = aimd.limit(V, new BatchPolicy(64, 50, 2));
    assertThat(p.maxBatchSize()).isEqualTo(64);
    aimd.observe(V, 64, 1, 6.4); // 0.1 ms per row, 7.4 ms in all: under 20
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).isEqualTo(68);
    aimd.observe(V, 10, 1, 1); // not full: says nothing about a bigger cap
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).isEqualTo(68);
    for (int i = 0; i < 100; i++) {
      aimd.observe(V, 1000, 1, 5);
    }
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).as("configured size stays the hard limit").isEqualTo(256);
  }

  @Test
  void shouldShrinkTheCapMultiplicativelyWhenABatchMissesTheTarget() {
    AdaptiveBatching aimd = new AdaptiveBatching(20, 4);
    aimd.limit(V, CONFIGURED);
    aimd.observe(V, 256, 5, 25.6); // 30.6 ms > 20
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).isEqualTo(192);
    aimd.observe(V, 192, 5, 19.2);
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).isEqualTo(144);
    for (int i = 0; i < 50; i++) {
      aimd.observe(V, 1, 100, 1);
    }
    assertThat(aimd.limit(V, CONFIGURED).maxBatchSize()).isEqualTo(1);
  }

  @Test
  void shouldWaitOnlyWhatTheTargetLeavesAfterAFullBatchAndNeverMoreThanConfigured() {
    AdaptiveBatching aimd = new AdaptiveBatching(20, 4);
    assertThat(aimd.limit(V, CONFIGURED).maxWaitMs()).as("no measurement yet").isEqualTo(50);
    aimd.observe(V, 100, 1, 10); // 0.1 ms per row
    BatchPolicy p = aimd.limit(V, CONFIGURED);
    // 100 < cap 256: the batch ended on time, not size, so the cap stays
    assertThat(p.maxBatchSize()).isEqualTo(256);
    assertThat(p.maxWaitMs()).isEqualTo(Math.max(0, (long) Math.floor(20 - 256 * 0.1 - AdaptiveBatching.MARGIN_MS)));
    aimd.observe(V, 256, 30, 25.6); // missed: cap 192, wait 20 - 19.2 - 2 < 0 → 0
    assertThat(aimd.limit(V, CONFIGURED).maxWaitMs()).isZero();
    AdaptiveBatching generous = new AdaptiveBatching(1000, 4);
    generous.limit(V, CONFIGURED);
    generous.observe(V, 10, 1, 1);
    assertThat(generous.limit(V, CONFIGURED).maxWaitMs()).as("configured wait is the hard limit").isEqualTo(50);
  }
}

package io.kinfer.topology.batch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchPolicyTest {
  private final BatchPolicy policy = new BatchPolicy(8, 20, 2);
  private static final long NONE = BatchPolicy.NO_DEADLINE;

  @Test
  void shouldIdleWhenNothingIsBuffered() {
    assertThat(policy.decide(0, 0, NONE, 100, 0)).isEqualTo(BatchPolicy.IDLE);
  }

  @Test
  void shouldDispatchWhenFull() {
    assertThat(policy.decide(8, 100, NONE, 100, 0)).isZero();
  }

  @Test
  void shouldWaitForTheRestOfMaxWait() {
    assertThat(policy.decide(3, 100, NONE, 105, 0)).isEqualTo(15);
    assertThat(policy.decide(3, 100, NONE, 120, 0)).isZero();
    assertThat(policy.decide(3, 100, NONE, 500, 0)).isZero();
  }

  @Test
  void shouldDispatchEarlyWhenADeadlineWouldBeMissed() {
    // Deadline at 110, a batch takes 4 ms, checks every 2 ms: dispatch by 104 at the latest.
    assertThat(policy.decide(2, 100, 110, 101, 4)).isEqualTo(3);
    assertThat(policy.decide(2, 100, 110, 104, 4)).isZero();
  }

  @Test
  void shouldDispatchAtOnceWhenTheCallerSaysTheBatchIsFull() {
    assertThat(policy.decide(3, true, 100, NONE, 101, 0)).isZero();
    assertThat(policy.decide(3, false, 100, NONE, 101, 0)).isEqualTo(19);
    assertThat(policy.decide(9, false, 100, NONE, 101, 0)).as("the caller decides what full is").isEqualTo(19);
  }
}

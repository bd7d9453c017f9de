package io.kinfer.worker.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.kinfer.topology.control.ControlEvents.At;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportedRejectionsTest {
  private static At at(long offset) {
    return new At(0, offset);
  }

  @Test
  void shouldReportARejectionOnceAcrossRestartsAndANewOneStill() {
    ReportedRejections first = new ReportedRejections(List.of());
    first.accepted(at(0));
    assertThat(first.rejected(at(1))).isTrue();
    assertThat(first.all()).containsExactly(at(1));

    ReportedRejections restarted = new ReportedRejections(first.all()); // the replay from offset 0
    restarted.accepted(at(0));
    assertThat(restarted.rejected(at(1))).as("replayed").isFalse();
    assertThat(restarted.rejected(at(2))).as("new").isTrue();
    assertThat(restarted.all()).containsExactly(at(1), at(2));

    ReportedRejections again = new ReportedRejections(restarted.all());
    assertThat(again.all()).as("carried before the replay reaches them").containsExactly(at(1), at(2));
    assertThat(again.rejected(at(1))).isFalse();
    assertThat(again.rejected(at(2))).isFalse();
  }

  @Test
  void shouldForgetRecordsTheReplayPassesWithoutRejectingThem() {
    ReportedRejections restarted = new ReportedRejections(List.of(at(3), at(5), at(7), at(9), new At(1, 2)));
    assertThat(restarted.rejected(at(5))).isFalse(); // 3 is gone: compacted away
    restarted.accepted(at(7)); // accepted now (its model loads this time)
    assertThat(restarted.all()).containsExactly(at(5), at(9), new At(1, 2));
    assertThat(restarted.rejected(at(11))).isTrue(); // 9 was passed: gone too
    assertThat(restarted.all()).containsExactly(at(5), at(11), new At(1, 2));
  }

  @Test
  void shouldAlwaysReportARejectionOfUnknownPosition() {
    ReportedRejections ledger = new ReportedRejections(List.of());
    assertThat(ledger.rejected(At.UNKNOWN)).isTrue();
    assertThat(ledger.rejected(At.UNKNOWN)).isTrue();
    assertThat(ledger.all()).isEmpty();
  }
}

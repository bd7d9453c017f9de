package io.kinfer.worker.status;

import io.kinfer.topology.control.ControlEvents.At;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The control records whose rejection this worker id has published. Kafka Streams replays the
 * control topic through the control processor at every start, so every stored command that was
 * rejected is rejected again; a rejection of a record in this ledger is such a replay and is not
 * published again, while a rejection of any other record (a new command, or one accepted before
 * and refused now) is.
 *
 * <p>The ledger goes out with every status record (the compacted status topic keeps the last one
 * per worker id) and is read back at start. It holds only records still on the control topic: the
 * replay passes every live record of a partition in offset order, so an inherited entry it passes
 * without rejecting it again was compacted away or is accepted now, and is dropped.
 */
final class ReportedRejections {
  private static final Comparator<At> ORDER = Comparator.comparingInt(At::partition).thenComparingLong(At::offset);

  /** Inherited from the last status and not yet passed by the replay. */
  private final NavigableSet<At> inherited = new TreeSet<>(ORDER);
  /** Rejections of this run, published now or before. */
  private final NavigableSet<At> reported = new TreeSet<>(ORDER);

  ReportedRejections(Collection<At> inherited) {
    inherited.stream().filter(At::known).forEach(this.inherited::add);
  }

  /** The record at {@code at} was rejected: whether to publish that (false if it was published before). */
  synchronized boolean rejected(At at) {
    if (!at.known()) {
      return true;
    }
    boolean replayed = pass(at);
    reported.add(at);
    return !replayed;
  }

  /** The record at {@code at} took effect. */
  synchronized void accepted(At at) {
    if (at.known()) {
      pass(at);
    }
  }

  /** Every position whose rejection has been published, for the next status record. */
  synchronized List<At> all() {
    NavigableSet<At> all = new TreeSet<>(ORDER);
    all.addAll(inherited);
    all.addAll(reported);
    return new ArrayList<>(all);
  }

  /** Drops the inherited entries up to {@code at} in its partition; whether {@code at} was one. */
  private boolean pass(At at) {
    boolean was = inherited.remove(at);
    inherited.removeIf(p -> p.partition() == at.partition() && p.offset() < at.offset());
    return was;
  }
}

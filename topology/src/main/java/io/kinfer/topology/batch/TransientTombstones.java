package io.kinfer.topology.batch;

import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * Keeps a request that is buffered and dispatched within one commit interval out of the changelog
 * entirely. Kafka Streams' record cache already drops the put of such a request, but on flush it
 * still writes the delete as a tombstone, one per request, unless the cache has a flush listener:
 * then it skips a delete whose key never reached the store below (the optimisation that keeps
 * KTable caches quiet). The listener itself does nothing; entries still buffered at a commit are
 * written as before, and their later deletes as tombstones, so a crash loses nothing.
 *
 * <p>{@code CachedStateStore} is Kafka Streams' internal API (pinned with the Kafka version in the
 * parent POM); the changelog tests in {@code InferenceTopologyTest} fail if an upgrade changes the
 * behaviour.
 */
final class TransientTombstones {
  private TransientTombstones() {}

  /** Returns false if {@code store} has no record cache (then nothing changes). */
  static boolean skip(StateStore store) {
    if (store instanceof CachedStateStore<?, ?> cached) {
      return cached.setFlushListener(record -> { }, false);
    }
    return false;
  }
}

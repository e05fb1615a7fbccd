package dev.accr.image;

import dev.accr.api.BulkReader.Pending;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The consumers' work still under way, oldest first, with the buffer each holds: a thread
 * that needs a buffer waits for the oldest (see {@link Pending#await}) and gives its buffer
 * back. A work's failure is thrown to the thread that waits for it.
 */
final class ChunksInFlight {
  private record Work(Pending pending, ByteBuffer buffer, ChunkBuffers home) {}

  private final ArrayDeque<Work> works = new ArrayDeque<>();

  void add(Pending pending, ByteBuffer buffer, ChunkBuffers home) {
    if (pending.isDone()) {
      finish(new Work(pending, buffer, home));
      return;
    }
    synchronized (this) {
      works.addLast(new Work(pending, buffer, home));
    }
  }

  /** Waits for the oldest work and gives its buffer back; false when none is in flight. */
  boolean awaitOldest() {
    Work w;
    synchronized (this) {
      w = works.pollFirst();
    }
    if (w == null) {
      return false;
    }
    finish(w);
    return true;
  }

  private void finish(Work w) {
    try {
      w.pending().await();
    } finally {
      w.home().give(w.buffer());
    }
  }

  void awaitAll() {
    while (awaitOldest()) {
      // each work's failure is thrown as it is met
    }
  }

  /** After a failure: every work still in flight ends before its buffer may be freed. */
  void awaitAllQuietly() {
    while (true) {
      try {
        if (!awaitOldest()) {
          return;
        }
      } catch (RuntimeException e) {
        // the read has failed already, or fails with this
      }
    }
  }
}

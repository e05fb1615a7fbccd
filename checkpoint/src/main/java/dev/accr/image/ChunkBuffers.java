package dev.accr.image;

import dev.accr.kernel.BufferBudget;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Buffers of one kind (stored chunks, or decoded ones), made from the grant on first need,
 * at most {@code max}; a buffer whose chunk is still in a consumer's work comes back when
 * that work is done.
 */
final class ChunkBuffers {
  private final BufferBudget.Grant grant;
  private final int size;
  private final int max;
  private final BlockingQueue<ByteBuffer> free;
  private int made; // guarded by this

  ChunkBuffers(BufferBudget.Grant grant, int size, int max) {
    this.grant = grant;
    this.size = size;
    this.max = Math.max(1, max);
    this.free = new ArrayBlockingQueue<>(this.max);
  }

  /**
   * A free buffer: one given back, a new one while fewer than the most are made, else one
   * freed by waiting for the oldest work in flight (or, with none, for a buffer given back).
   */
  ByteBuffer take(ChunksInFlight inFlight) throws InterruptedException {
    while (true) {
      ByteBuffer b = free.poll();
      if (b != null) {
        return b;
      }
      synchronized (this) {
        if (made < max) {
          made++;
          return grant.allocate(size).asByteBuffer();
        }
      }
      if (!inFlight.awaitOldest()) {
        b = free.poll(10, TimeUnit.MILLISECONDS);
        if (b != null) {
          return b;
        }
      }
    }
  }

  void give(ByteBuffer b) {
    free.add(b);
  }
}

package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;

/**
 * A bounded set of host staging buffers, one piece each, between the SDMA engines and the
 * image writers: the node's memory for copying VRAM stays at this budget whatever the VRAM
 * size. Buffers are made when first needed (a small dump does not pay for the whole budget)
 * and come zeroed from the kernel rather than cleared by hand. The buffer returned last is
 * handed out first, while it is still in the cache of the core that used it.
 */
final class StagingPool implements AutoCloseable {
  /** Default budget: 64 MiB, 32 buffers. */
  static final long DEFAULT_BYTES = 64L << 20;

  private final Arena arena = Arena.ofShared();
  private final BlockingDeque<MemorySegment> free;
  private final int size;
  private int made;

  StagingPool(long bytes) {
    this.size = (int) Math.max(2, Math.min(4096, bytes / VramPieces.PIECE));
    this.free = new LinkedBlockingDeque<>(size);
  }

  static long parseMib(String value) {
    try {
      long mib = Long.parseLong(value);
      if (mib < 4 || mib > 65536) {
        throw AccrException.usage("kfd: staging-mib %d is out of range [4, 65536]", mib);
      }
      return mib << 20;
    } catch (NumberFormatException e) {
      throw AccrException.usage("kfd: staging-mib '%s' is not a number", value);
    }
  }

  int size() {
    return size;
  }

  long bytes() {
    return (long) size * VramPieces.PIECE;
  }

  /** A free buffer, made if the budget allows, else waited for. */
  MemorySegment take() throws InterruptedException {
    MemorySegment b = poll();
    return b != null ? b : free.takeFirst();
  }

  /** A free buffer, made if the budget allows; null when all are in use. */
  MemorySegment poll() {
    MemorySegment b = free.pollFirst();
    return b != null ? b : make();
  }

  private synchronized MemorySegment make() {
    if (made == size) {
      return null;
    }
    made++;
    return ZeroedMemory.allocate(arena, VramPieces.PIECE);
  }

  void give(MemorySegment buffer) {
    free.addFirst(buffer);
  }

  @Override
  public void close() {
    arena.close();
  }
}

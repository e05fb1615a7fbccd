package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.kfd.driver.Vram;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A fixed set of host staging buffers, one VRAM block each, between the SDMA engines and the
 * image writers: the node's memory for copying VRAM stays at this budget whatever the VRAM size.
 */
final class StagingPool implements AutoCloseable {
  /** Default budget: 64 MiB, 32 buffers. */
  static final long DEFAULT_BYTES = 64L << 20;

  private final Arena arena = Arena.ofShared();
  private final BlockingQueue<MemorySegment> free;
  private final int size;

  StagingPool(long bytes) {
    int n = (int) Math.max(2, Math.min(4096, bytes / Vram.BLOCK));
    this.size = n;
    this.free = new ArrayBlockingQueue<>(n);
    for (int i = 0; i < n; i++) {
      free.add(arena.allocate(Vram.BLOCK, 4096));
    }
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
    return size * Vram.BLOCK;
  }

  /** Waits for a free buffer. */
  MemorySegment take() throws InterruptedException {
    return free.take();
  }

  /** A free buffer if one is available within a moment, else null. */
  MemorySegment poll() throws InterruptedException {
    return free.poll(0, TimeUnit.MILLISECONDS);
  }

  void give(MemorySegment buffer) {
    free.add(buffer);
  }

  @Override
  public void close() {
    arena.close();
  }
}

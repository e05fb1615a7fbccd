package dev.accr.kernel;

import dev.accr.api.MemoryView;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Allocates a process's 4 KiB page frames off-heap, cut from regions that double in size (16
 * frames up to 64 MiB), so a process that touched ten pages holds about ten pages, and a
 * process with a million pages makes a few dozen allocations. Regions of 2 MiB and more are
 * huge-page aligned and advised for transparent huge pages ({@link ZeroedMemory}): restoring a
 * large process then faults its memory in 2 MiB at a time. Frames come zeroed from the kernel
 * and are first touched by whoever writes them, outside the pool's lock. All frames are freed
 * together when the process goes away.
 */
final class FramePool implements AutoCloseable {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final long MIN_REGION = 16L * PAGE;
  private static final long MAX_REGION = 64L << 20;

  private final Arena arena = Arena.ofShared();
  private final NodeMemory accounting;
  private MemorySegment region = MemorySegment.NULL;
  private long regionUsed;
  private long frames;
  private long reserved;
  private boolean closed;

  FramePool(NodeMemory accounting) {
    this.accounting = accounting;
  }

  /** A zeroed frame. */
  synchronized MemorySegment allocate() {
    MemorySegment frame = take(1);
    frames++;
    accounting.addResident(1);
    return frame;
  }

  /**
   * A contiguous block of {@code pages} zeroed frames. The block is reserved now; each frame
   * counts as resident once {@link #adopt} is called for it.
   */
  synchronized MemorySegment allocateBlock(int pages) {
    return take(pages);
  }

  private MemorySegment take(int pages) {
    if (closed) {
      throw new IllegalStateException("frame pool is closed");
    }
    long bytes = (long) pages * PAGE;
    if (region.byteSize() - regionUsed < bytes) {
      long size = Math.min(MAX_REGION, Math.max(MIN_REGION, region.byteSize() * 2));
      size = Math.max(size, bytes);
      region = ZeroedMemory.allocate(arena, size);
      regionUsed = 0;
      reserved += size;
      accounting.addReserved(size);
    }
    MemorySegment block = region.asSlice(regionUsed, bytes);
    regionUsed += bytes;
    return block;
  }

  /** Counts {@code count} frames of a block from {@link #allocateBlock} as resident. */
  synchronized void adopt(int count) {
    frames += count;
    accounting.addResident(count);
  }

  synchronized long frames() {
    return frames;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    arena.close();
    accounting.addResident(-frames);
    accounting.addReserved(-reserved);
  }
}

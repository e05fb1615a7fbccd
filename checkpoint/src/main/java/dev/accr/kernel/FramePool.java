package dev.accr.kernel;

import dev.accr.api.MemoryView;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Allocates a process's 4 KiB page frames off-heap. Frames are cut from slabs that double in
 * size (16 frames up to 512), so a process that touched ten pages holds about ten pages, and a
 * process with a million pages does not make a million allocations. All frames are freed
 * together when the process goes away.
 */
final class FramePool implements AutoCloseable {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final int MIN_SLAB_FRAMES = 16;
  private static final int MAX_SLAB_FRAMES = 512;

  private final Arena arena = Arena.ofShared();
  private final NodeMemory accounting;
  private MemorySegment slab = MemorySegment.NULL;
  private int slabFrames;
  private int slabUsed;
  private long frames;
  private long reserved;
  private boolean closed;

  FramePool(NodeMemory accounting) {
    this.accounting = accounting;
  }

  /** A zeroed frame. */
  synchronized MemorySegment allocate() {
    if (closed) {
      throw new IllegalStateException("frame pool is closed");
    }
    if (slabUsed == slabFrames) {
      slabFrames = Math.min(MAX_SLAB_FRAMES, Math.max(MIN_SLAB_FRAMES, slabFrames * 2));
      slab = ZeroedMemory.allocate(arena, (long) slabFrames * PAGE);
      slabUsed = 0;
      reserved += (long) slabFrames * PAGE;
      accounting.addReserved((long) slabFrames * PAGE);
    }
    MemorySegment frame = slab.asSlice((long) slabUsed * PAGE, PAGE);
    slabUsed++;
    frames++;
    accounting.addResident(1);
    return frame;
  }

  /**
   * A contiguous block of {@code pages} zeroed frames, allocated without holding the pool's
   * lock so that several threads restoring memory zero their blocks in parallel. The block is
   * reserved now; each frame counts as resident once {@link #adopt} is called for it.
   */
  MemorySegment allocateBlock(int pages) {
    MemorySegment block = ZeroedMemory.allocate(arena, (long) pages * PAGE);
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("frame pool is closed");
      }
      reserved += (long) pages * PAGE;
    }
    accounting.addReserved((long) pages * PAGE);
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

package dev.accr.kernel;

import dev.accr.api.MemoryView;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Allocates a process's 4 KiB page frames off-heap, cut from regions that double in size (16
 * frames up to 64 MiB), so a process that touched ten pages holds about ten pages, and a
 * process with a million pages makes a few dozen allocations. Regions of 2 MiB and more are
 * huge-page aligned and advised for transparent huge pages ({@link ZeroedMemory}): restoring a
 * large process then faults its memory in 2 MiB at a time. Frames come zeroed from the kernel
 * and are first touched by whoever writes them, outside the pool's lock. All frames are freed
 * together when the process goes away.
 *
 * <p>A frame is named by a {@code long} reference, its region and its page in the region (never
 * 0), rather than by an object: a page table holds references, and the frames of a run that
 * follow each other in a region have references that follow each other too.
 */
final class FramePool implements AutoCloseable {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final long MIN_REGION = 16L * PAGE;
  private static final long MAX_REGION = 64L << 20;

  private final Arena arena = Arena.ofShared();
  /** The arenas of pools taken over ({@link #absorb}): closed with this one. */
  private final java.util.List<Arena> absorbed = new java.util.ArrayList<>();
  private final NodeMemory accounting;
  /** Every region so far, in order; replaced, never changed, when one is added. */
  private volatile MemorySegment[] regions = new MemorySegment[0];
  private long regionUsed;
  private long frames;
  private long reserved;
  private boolean closed;

  FramePool(NodeMemory accounting) {
    this.accounting = accounting;
  }

  /** The reference of page {@code page} of region {@code region}. */
  private static long ref(int region, long page) {
    return ((long) (region + 1) << 32) | page;
  }

  /** A zeroed frame, counted as resident: its reference. */
  synchronized long allocate() {
    long frame = take(1);
    frames++;
    accounting.addResident(1);
    return frame;
  }

  /**
   * A contiguous block of {@code pages} zeroed frames: the reference of its first frame (the
   * others follow). The block is reserved now; each frame counts as resident once {@link
   * #adopt} is called for it.
   */
  synchronized long allocateBlock(int pages) {
    return take(pages);
  }

  private long take(int pages) {
    if (closed) {
      throw new IllegalStateException("frame pool is closed");
    }
    long bytes = (long) pages * PAGE;
    MemorySegment[] all = regions;
    MemorySegment region = all.length == 0 ? MemorySegment.NULL : all[all.length - 1];
    if (region.byteSize() - regionUsed < bytes) {
      long size = Math.min(MAX_REGION, Math.max(MIN_REGION, region.byteSize() * 2));
      size = Math.max(size, bytes);
      region = ZeroedMemory.allocate(arena, size);
      all = Arrays.copyOf(all, all.length + 1);
      all[all.length - 1] = region;
      regions = all;
      regionUsed = 0;
      reserved += size;
      accounting.addReserved(size);
    }
    long first = ref(all.length - 1, regionUsed / PAGE);
    regionUsed += bytes;
    return first;
  }

  /** The frame of reference {@code ref}. */
  MemorySegment frame(long ref) {
    return frames(ref, 1);
  }

  /** The {@code pages} frames from reference {@code ref} on, which follow each other in a region. */
  MemorySegment frames(long ref, long pages) {
    return regions[(int) (ref >>> 32) - 1].asSlice((ref & 0xffff_ffffL) * PAGE, pages * PAGE);
  }

  /** The reference of the first frame of {@code block}, a block this pool handed out. */
  long refOf(MemorySegment block) {
    MemorySegment[] all = regions;
    long address = block.address();
    for (int r = all.length - 1; r >= 0; r--) {
      long offset = address - all[r].address();
      if (offset >= 0 && offset + block.byteSize() <= all[r].byteSize()) {
        return ref(r, offset / PAGE);
      }
    }
    throw new IllegalArgumentException("not frames of this pool");
  }

  /** Counts {@code count} frames of a block from {@link #allocateBlock} as resident. */
  synchronized void adopt(int count) {
    frames += count;
    accounting.addResident(count);
  }

  synchronized long frames() {
    return frames;
  }

  /** Stops counting {@code count} frames as resident (their pages were dropped unused). */
  synchronized void release(long count) {
    frames -= count;
    accounting.addResident(-count);
  }

  /**
   * Takes over every region of {@code donor}, with its resident frames and its arena, without
   * a copy; the donor is closed and this pool frees the regions with its own. Returns what to
   * add to a reference of the donor's to name the same frame here.
   */
  synchronized long absorb(FramePool donor) {
    MemorySegment[] theirs;
    synchronized (donor) {
      if (donor.closed || closed) {
        throw new IllegalStateException("frame pool is closed");
      }
      donor.closed = true;
      theirs = donor.regions;
      absorbed.add(donor.arena);
      absorbed.addAll(donor.absorbed);
      frames += donor.frames;
      reserved += donor.reserved;
    }
    MemorySegment[] all = regions;
    long shift = (long) all.length << 32;
    MemorySegment[] joined = Arrays.copyOf(all, all.length + theirs.length);
    System.arraycopy(theirs, 0, joined, all.length, theirs.length);
    regions = joined;
    // The last region is the donor's now: the next allocation starts a region of its own.
    regionUsed = joined.length == 0 ? 0 : joined[joined.length - 1].byteSize();
    return shift;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    arena.close();
    absorbed.forEach(Arena::close);
    accounting.addResident(-frames);
    accounting.addReserved(-reserved);
  }
}

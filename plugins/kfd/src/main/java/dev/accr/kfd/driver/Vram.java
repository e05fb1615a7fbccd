package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.UnaryOperator;

/**
 * A GPU's device memory, allocated lazily in 2 MiB blocks on first write: a 64 GiB device
 * costs nothing until used. Reads of untouched blocks see zeros. Blocks are freed when the
 * buffer that covered them is freed, cleared, and kept for the next blocks written ({@link
 * SpareBlocks}): the host memory of a device is unmapped when the device closes.
 *
 * <p>Each owner of a block sees it through a view of its own: freeing the block closes the
 * view, so a slice taken from it before (by {@link #forRead} or {@link #forWrite}) fails with
 * {@link IllegalStateException} when used afterwards, instead of reading or writing the memory
 * that the block's next owner holds.
 */
public final class Vram {
  /** Allocation unit; buffers are aligned to it so a block belongs to one buffer. */
  public static final long BLOCK = 2L << 20;
  private static final java.lang.invoke.VarHandle BLOCKS =
      java.lang.invoke.MethodHandles.arrayElementVarHandle(MemorySegment[].class);
  private static final MemorySegment ZEROS = Arena.global().allocate(BLOCK).asReadOnly();

  private final long capacity;
  private final long visibleBytes;
  /** The current owner's view of each block; null: not allocated. */
  private final MemorySegment[] blocks;
  /** The memory behind each view, and the arena that unmaps it. */
  private final SpareBlocks.Block[] memory;
  /** The arena of each view: closed when the block is freed. */
  private final Arena[] views;
  private final AtomicLong resident = new AtomicLong();
  /** Freed blocks kept for reuse: fresh host memory costs far more than memory used before. */
  private final SpareBlocks spare = new SpareBlocks();
  /** Where blocks not present yet come from (a lazy restore); null: every block is here. */
  private volatile VramFaults faults;
  private final Object faultsChange = new Object();
  /** Copies while the owner runs hold it shared; freeing blocks holds it alone. */
  private final ReentrantReadWriteLock freeing = new ReentrantReadWriteLock();

  Vram(long capacity, long visibleBytes) {
    if (capacity % BLOCK != 0 || capacity / BLOCK > Integer.MAX_VALUE) {
      throw AccrException.usage("vramBytes %d is not a multiple of 2 MiB", capacity);
    }
    this.capacity = capacity;
    this.visibleBytes = Math.min(visibleBytes, capacity);
    this.blocks = new MemorySegment[(int) (capacity / BLOCK)];
    this.memory = new SpareBlocks.Block[blocks.length];
    this.views = new Arena[blocks.length];
  }

  public long capacity() {
    return capacity;
  }

  /** The CPU-visible window (the BAR): offsets below it are reachable by the CPU. */
  public long visibleBytes() {
    return visibleBytes;
  }

  /** Bytes of device memory actually allocated. */
  public long residentBytes() {
    return resident.get();
  }

  /**
   * The bytes at {@code offset}, for writing (allocating the block); the range must lie in
   * one block.
   */
  public MemorySegment forWrite(long offset, long length) {
    int b = block(offset, length);
    MemorySegment block = blocks[b];
    if (block == null) {
      block = faultIn(b);
    }
    return block.asSlice(offset % BLOCK, length);
  }

  private MemorySegment faultIn(int b) {
    VramFaults f = faults;
    if (f != null) {
      f.fault(b);
      MemorySegment block = blocks[b];
      if (block != null) {
        return block;
      }
    }
    return allocate(b);
  }

  /** The bytes at {@code offset}, read-only; zeros if never written. */
  public MemorySegment forRead(long offset, long length) {
    int b = block(offset, length);
    MemorySegment block = blocks[b];
    if (block == null && faults != null) {
      faults.fault(b);
      block = blocks[b];
    }
    return (block == null ? ZEROS : block).asSlice(offset % BLOCK, length);
  }

  /** Sends first touches of absent blocks to {@code f} (a lazy restore), or, with null, not. */
  public void setFaults(VramFaults f) {
    synchronized (faultsChange) {
      this.faults = f;
    }
  }

  /**
   * Replaces the first-touch handler by {@code change} applied to the current one, atomically
   * with other changes (several lazy restores may share this GPU).
   */
  public void changeFaults(UnaryOperator<VramFaults> change) {
    synchronized (faultsChange) {
      this.faults = change.apply(faults);
    }
  }

  /** Whether block {@code b} has memory (was written or loaded). */
  public boolean present(int b) {
    return blocks[b] != null;
  }

  /**
   * Makes {@code filled} (a whole block from {@code arena}, written before this call) block
   * {@code b}, unless the block has memory already; returns whether it was taken (if not, the
   * caller closes the arena). Engines that find the block afterwards see its contents. A spare
   * block is unmapped in its place: the device holds no more host memory than the most it had
   * in use, however many blocks come filled (a migration's staged or served VRAM).
   */
  public boolean installFilled(int b, Arena arena, MemorySegment filled) {
    SpareBlocks.Block unused;
    synchronized (this) {
      if (blocks[b] != null || filled.byteSize() != BLOCK) {
        return false;
      }
      own(b, new SpareBlocks.Block(arena, filled));
      unused = spare.take();
    }
    if (unused != null) {
      unused.arena().close(); // unmapped outside the monitor: engines go on meanwhile
    }
    return true;
  }

  /** A block for {@code b}: a spare one (cleared when freed), else fresh memory (zero). */
  private synchronized MemorySegment allocate(int b) {
    if (blocks[b] != null) {
      return blocks[b];
    }
    SpareBlocks.Block m = spare.take();
    if (m == null) {
      Arena arena = Arena.ofShared();
      m = new SpareBlocks.Block(arena, ZeroedMemory.allocate(arena, BLOCK));
    }
    return own(b, m);
  }

  /** Makes {@code m} block {@code b}, seen through a new view; the caller holds the monitor. */
  private MemorySegment own(int b, SpareBlocks.Block m) {
    Arena view = Arena.ofShared();
    MemorySegment v = MemorySegment.ofAddress(m.memory().address()).reinterpret(BLOCK, view,
        null);
    memory[b] = m;
    views[b] = view;
    BLOCKS.setRelease(blocks, b, v);
    resident.addAndGet(BLOCK);
    return v;
  }

  private int block(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > capacity
        || (length > 0 && offset / BLOCK != (offset + length - 1) / BLOCK)) {
      throw new IllegalArgumentException(String.format(
          "vram access %x+%x crosses a block or leaves the device", offset, length));
    }
    return (int) (offset / BLOCK);
  }

  /**
   * Frees the blocks of {@code [offset, offset + length)} (block aligned): their views are
   * closed, then they are cleared and kept for the next blocks written.
   */
  void release(long offset, long length) {
    List<Freed> freed = new ArrayList<>();
    // The frees' lock before the monitor, as a copy of a running process takes them (a lazy
    // fault under copyOutRunning enters the monitor while holding the read lock).
    freeing.writeLock().lock();
    try {
      synchronized (this) {
        releaseBlocks(offset, length, freed);
      }
      for (Freed f : freed) {
        closeView(f.view());
      }
    } finally {
      freeing.writeLock().unlock();
    }
    // Cleared outside the locks, as a driver clears freed memory while the device works on.
    for (Freed f : freed) {
      f.memory().memory().fill((byte) 0);
    }
    synchronized (this) {
      for (Freed f : freed) {
        spare.give(f.memory());
      }
    }
  }

  private record Freed(Arena view, SpareBlocks.Block memory) {}

  private void releaseBlocks(long offset, long length, List<Freed> freed) {
    for (long at = offset; at < offset + length; at += BLOCK) {
      int b = (int) (at / BLOCK);
      VramFaults f = faults;
      if (f != null) {
        f.released(b);
      }
      if (blocks[b] != null) {
        freed.add(new Freed(views[b], memory[b]));
        blocks[b] = null;
        memory[b] = null;
        views[b] = null;
        resident.addAndGet(-BLOCK);
      }
    }
  }

  /**
   * Closes a freed block's view: a thread still copying through a slice of it (a reader not
   * excluded by the frees' lock) is waited for, and fails on its next access.
   */
  private static void closeView(Arena view) {
    while (true) {
      try {
        view.close();
        return;
      } catch (IllegalStateException busy) {
        Thread.onSpinWait();
      }
    }
  }

  /**
   * {@link #copyOut} while the owner of the VRAM runs and may free buffers: no block is freed
   * under the copy (a block freed before it reads as zeros).
   */
  public void copyOutRunning(long offset, MemorySegment dst, long dstOffset, long length) {
    freeing.readLock().lock();
    try {
      copyOut(offset, dst, dstOffset, length);
    } finally {
      freeing.readLock().unlock();
    }
  }

  /** Whether a free waits for the frees' lock (a copy of a running process holds it). */
  boolean freeWaiting() {
    return freeing.hasQueuedThreads();
  }

  /** Copies {@code length} bytes at {@code offset} into {@code dst}, block by block. */
  public void copyOut(long offset, MemorySegment dst, long dstOffset, long length) {
    while (length > 0) {
      long n = Math.min(length, BLOCK - offset % BLOCK);
      MemorySegment.copy(forRead(offset, n), 0, dst, dstOffset, n);
      offset += n;
      dstOffset += n;
      length -= n;
    }
  }

  /** Copies {@code length} bytes of {@code src} to {@code offset}, block by block. */
  public void copyIn(MemorySegment src, long srcOffset, long offset, long length) {
    while (length > 0) {
      long n = Math.min(length, BLOCK - offset % BLOCK);
      MemorySegment.copy(src, srcOffset, forWrite(offset, n), 0, n);
      offset += n;
      srcOffset += n;
      length -= n;
    }
  }

  /**
   * Frees every block and unmaps it. Not under the monitor: {@link #release} takes the frees'
   * lock before it, and a thread freeing a buffer (a process killed in a fault) holds that lock
   * while it waits for the monitor.
   */
  void close() {
    List<Freed> freed = new ArrayList<>();
    freeing.writeLock().lock();
    try {
      synchronized (this) {
        releaseBlocks(0, capacity, freed);
      }
      for (Freed f : freed) {
        closeView(f.view());
      }
    } finally {
      freeing.writeLock().unlock();
    }
    synchronized (this) {
      for (Freed f : freed) {
        f.memory().arena().close();
      }
      spare.close();
    }
  }

  /** Blocks freed and kept mapped for the next allocations (see {@link SpareBlocks}). */
  synchronized int spareBlocks() {
    return spare.size();
  }
}

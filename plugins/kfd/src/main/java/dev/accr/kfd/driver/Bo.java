package dev.accr.kfd.driver;

import dev.accr.kfd.proto.BoDomain;
import java.util.Set;
import java.util.TreeSet;

/**
 * A buffer object: memory a GPU reaches at a fixed GPU virtual address. VRAM buffers live in
 * the owning GPU's VRAM at {@link #vramOffset()}; GTT and USERPTR buffers are host memory of
 * the process at the same address; DOORBELL and MMIO are device pages mapped through the
 * device file at {@link #mmapOffset()}.
 */
public final class Bo {
  /** Host access: placed in the CPU-visible VRAM window. */
  public static final int FLAG_CPU_VISIBLE = 1;
  public static final int FLAG_EXECUTABLE = 2;
  public static final int FLAG_COHERENT = 4;

  private final int handle;
  private final int gpuId;
  private final Gpu gpu;
  private final BoDomain domain;
  private final long va;
  private final long size;
  private final int flags;
  private final long vramOffset;
  private final long mmapOffset;
  private final Set<Integer> mappedGpus = new TreeSet<>();
  /** Set once the buffer is exported or is an import: its memory belongs to the dma-buf. */
  private volatile DmaBuf shared;
  private final boolean imported;
  /** Pages written since the last clear; null while the process is not tracked. */
  private volatile DirtyTracker dirty;

  Bo(int handle, int gpuId, Gpu gpu, BoDomain domain, long va, long size, int flags,
      long vramOffset, long mmapOffset) {
    this(handle, gpuId, gpu, domain, va, size, flags, vramOffset, mmapOffset, false);
  }

  Bo(int handle, int gpuId, Gpu gpu, BoDomain domain, long va, long size, int flags,
      long vramOffset, long mmapOffset, boolean imported) {
    this.imported = imported;
    this.handle = handle;
    this.gpuId = gpuId;
    this.gpu = gpu;
    this.domain = domain;
    this.va = va;
    this.size = size;
    this.flags = flags;
    this.vramOffset = vramOffset;
    this.mmapOffset = mmapOffset;
    mappedGpus.add(gpuId);
  }

  public int handle() {
    return handle;
  }

  /** The owning GPU as the process sees it. */
  public int gpuId() {
    return gpuId;
  }

  public Gpu gpu() {
    return gpu;
  }

  public BoDomain domain() {
    return domain;
  }

  public long va() {
    return va;
  }

  public long size() {
    return size;
  }

  public long end() {
    return va + size;
  }

  public int flags() {
    return flags;
  }

  /** Offset in the owner's VRAM (VRAM buffers), else -1. */
  public long vramOffset() {
    return vramOffset;
  }

  public long mmapOffset() {
    return mmapOffset;
  }

  /** GPUs (process-visible ids) whose page tables map this buffer. */
  public synchronized Set<Integer> mappedGpus() {
    return new TreeSet<>(mappedGpus);
  }

  synchronized void mapOn(int gpu) {
    mappedGpus.add(gpu);
  }

  synchronized boolean isMappedOn(int gpu) {
    return mappedGpus.contains(gpu);
  }

  /** The dma-buf this buffer was exported as or imported from, or null. */
  public DmaBuf dmaBuf() {
    return shared;
  }

  /** Whether this buffer is an import of another process's dma-buf (its memory is not ours). */
  public boolean imported() {
    return imported;
  }

  void share(DmaBuf buffer) {
    shared = buffer;
  }

  /** Returns the buffer's VRAM to its GPU, or drops this holder's reference to its dma-buf. */
  void releaseVram() {
    DmaBuf d = shared;
    if (d != null) {
      d.release(this);
    } else if (domain == BoDomain.VRAM) {
      // Memory first, then the range: a range handed out again while its old blocks are
      // still installed would have the new owner's writes cleared with them.
      gpu.vram().release(vramOffset, VramAllocator.roundUp(size));
      gpu.allocator().free(vramOffset);
    }
  }

  DirtyTracker dirty() {
    return dirty;
  }

  void setDirty(DirtyTracker tracker) {
    dirty = tracker;
  }

  /** Records a write of {@code length} bytes at GPU address {@code at} (if tracked). */
  void written(long at, long length) {
    DmaBuf d = shared;
    if (d != null) {
      d.written(at - va, length); // every holder sees it
    } else {
      markWritten(at - va, length);
    }
  }

  void markWritten(long offset, long length) {
    DirtyTracker d = dirty;
    if (d != null) {
      d.markBytes(offset, length);
    }
  }

  /** Whether the CPU can reach the whole buffer through the visible VRAM window. */
  public boolean cpuReachable() {
    return domain != BoDomain.VRAM || vramOffset + size <= gpu.vram().visibleBytes();
  }

  @Override
  public String toString() {
    return String.format("%s bo %d at va 0x%x (%d KiB, gpu 0x%x)", domain, handle, va,
        size >> 10, gpuId);
  }
}

package dev.accr.kfd.driver;

import dev.accr.api.AccrException;
import java.util.ArrayList;
import java.util.List;

/**
 * A VRAM buffer exported for sharing between processes (a dma-buf): the memory stays
 * allocated while any process holds it, through a descriptor ({@link DmaBufFile}) or a buffer
 * object in its GPU VM (the exporter's own, or an import). Writes through any holder mark the
 * page written in every holder's tracker, so a dump that saves the buffer once, from its
 * exporter, sees every write.
 *
 * <p>A buffer restored from an image may exist before its memory does ({@link #bound()} false):
 * descriptors and imports of it wait until its exporter is restored.
 */
public final class DmaBuf {
  private final KfdDriver driver;
  private final long id;
  private Gpu gpu;
  private long vramOffset = -1;
  private long size;
  private int exporterPid;
  private int exporterHandle;
  private record Holder(int pid, Bo bo) {}

  private final List<Holder> holders = new ArrayList<>();
  private int references;
  private boolean released;

  DmaBuf(KfdDriver driver, long id) {
    this.driver = driver;
    this.id = id;
  }

  /** The node-wide identity of this buffer (its inode), as dumps record it. */
  public long id() {
    return id;
  }

  /** The device-file path of a descriptor of this buffer. */
  public String path() {
    return DmaBufFile.PATH_PREFIX + id;
  }

  public synchronized boolean bound() {
    return gpu != null;
  }

  /** The GPU whose VRAM holds the buffer. */
  public synchronized Gpu gpu() {
    checkBound();
    return gpu;
  }

  public synchronized long size() {
    checkBound();
    return size;
  }

  synchronized long vramOffset() {
    checkBound();
    return vramOffset;
  }

  /** The process that exported it, and its handle there. */
  public synchronized int exporterPid() {
    return exporterPid;
  }

  public synchronized int exporterHandle() {
    return exporterHandle;
  }

  /** The pids of the processes holding it in their GPU VM, exporter first. */
  public synchronized List<Integer> holderPids() {
    return holders.stream().map(Holder::pid).toList();
  }

  private void checkBound() {
    if (gpu == null) {
      throw AccrException.failed("kfd: dma-buf %d has no memory yet (its exporter is not"
          + " restored)", id);
    }
  }

  /**
   * Whether {@code bo} keeps the buffer's contents: the first holder, which is the exporter's
   * buffer until the exporter frees it, then the oldest import. A dump saves the contents
   * with it, once.
   */
  public synchronized boolean keptBy(Bo bo) {
    return !holders.isEmpty() && holders.getFirst().bo() == bo;
  }

  /**
   * Gives a restored buffer whose exporter had freed its own buffer memory of its own
   * ({@code size} bytes at {@code vramOffset} of {@code gpu}), for an import to hold.
   */
  synchronized void bindFreed(Gpu gpu, long vramOffset, long size, int exporterPid,
      int exporterHandle) {
    if (this.gpu != null) {
      throw AccrException.failed("kfd: dma-buf %d is already bound", id);
    }
    this.gpu = gpu;
    this.vramOffset = vramOffset;
    this.size = size;
    this.exporterPid = exporterPid;
    this.exporterHandle = exporterHandle;
  }

  /** Gives the buffer the memory of {@code exporter}'s VRAM buffer; it holds one reference. */
  synchronized void bind(Bo exporter, int pid) {
    if (gpu != null) {
      throw AccrException.failed("kfd: dma-buf %d is already bound", id);
    }
    gpu = exporter.gpu();
    vramOffset = exporter.vramOffset();
    size = exporter.size();
    exporterPid = pid;
    exporterHandle = exporter.handle();
    hold(exporter, pid);
  }

  synchronized void hold(Bo bo, int pid) {
    holders.add(new Holder(pid, bo));
    bo.share(this);
    references++;
  }

  synchronized boolean unused() {
    return references == 0;
  }

  synchronized void reference() {
    references++;
  }

  /** Drops one reference (a descriptor closed, or a holder freed its buffer). */
  void release(Bo bo) {
    boolean free;
    boolean gone;
    Bo newKeeper = null;
    long bytes;
    synchronized (this) {
      bytes = size;
      if (bo != null) {
        Bo keeper = holders.isEmpty() ? null : holders.getFirst().bo();
        holders.removeIf(h -> h.bo() == bo);
        if (keeper == bo && !holders.isEmpty()) {
          newKeeper = holders.getFirst().bo();
        }
      }
      references--;
      gone = references <= 0 && !released;
      free = gone && gpu != null;
      if (gone) {
        released = true;
      }
    }
    if (newKeeper != null && !gone) {
      // Its next dump stores the contents with it: none of its earlier dumps did.
      newKeeper.markWritten(0, bytes);
    }
    if (free) {
      gpu.vram().release(vramOffset, VramAllocator.roundUp(size)); // memory, then the range
      gpu.allocator().free(vramOffset);
    }
    if (gone) {
      driver.forget(this);
    }
  }

  /** A write of {@code length} bytes at {@code offset} through any holder. */
  void written(long offset, long length) {
    List<Holder> all;
    synchronized (this) {
      all = List.copyOf(holders);
    }
    for (Holder h : all) {
      h.bo().markWritten(offset, length);
    }
  }

  @Override
  public String toString() {
    return "dma-buf " + id;
  }
}

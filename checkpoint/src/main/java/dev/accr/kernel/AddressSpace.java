package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.MemoryView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The address space of a simulated process: non-overlapping mappings whose pages are
 * allocated on first write from the process's frame pool.
 */
public final class AddressSpace implements MemoryView, AutoCloseable {
  private static final MemorySegment ZERO_PAGE =
      Arena.global().allocate(PAGE_SIZE, PAGE_SIZE).asReadOnly();
  private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
  /** Addresses end here, as in the user half of an x86-64 address space (128 TiB). */
  public static final long MAX_ADDRESS = 1L << 47;
  /** At most this much may be mapped in all (page tables are sized by mappings). */
  public static final long MAX_MAPPED_BYTES = 1L << 40;

  private final Mappings vmas = new Mappings();
  private final FramePool frames;
  private final NodeMemory accounting;
  private final KernelIds ids;
  /** Finds the memfd open at a descriptor of the owning process (null: not a memfd). */
  private IntFunction<SharedMemory> memfds = fd -> null;
  private final WriteTracking tracking = new WriteTracking();
  private final RunWrites runs;
  /** Where pages not present yet come from (a lazy restore); null: every page is here. */
  private volatile PageFaults faults;

  AddressSpace(NodeMemory accounting, KernelIds ids) {
    this.frames = new FramePool(accounting);
    this.runs = new RunWrites(this, frames);
    this.accounting = accounting;
    this.ids = ids;
  }

  /** An address space of no process, accounted to no node (tools that rebuild memory). */
  public static AddressSpace standalone() {
    return new AddressSpace(new NodeMemory(), new KernelIds());
  }

  void resolveMemfdsWith(IntFunction<SharedMemory> memfds) {
    this.memfds = memfds;
  }

  /** A read-only page of zeros. */
  public static MemorySegment zeroPage() {
    return ZERO_PAGE;
  }

  @Override
  public void mapAnonymous(long start, long length, int prot, String name) {
    map(start, length, prot, Vma.Kind.ANON, name, "", 0);
  }

  @Override
  public void mapDevice(DeviceMapping mapping, String name) {
    map(mapping.start(), mapping.length(), mapping.prot(), Vma.Kind.DEVICE, name, mapping.path(),
        mapping.offset());
  }

  @Override
  public void mapShared(long start, long length, int prot, String name) {
    Mappings.checkRange(start, length);
    SharedMemory shm = new SharedMemory(ids.next(), name, length, accounting);
    try {
      mapShared(start, prot, Vma.Kind.ANON, name, "", shm);
    } catch (RuntimeException e) {
      shm.release();
      throw e;
    }
  }

  @Override
  public void mapMemfd(long start, int fd, int prot, String name) {
    SharedMemory shm = memfds.apply(fd);
    if (shm == null) {
      throw AccrException.failed("mmap: fd %d is not a memfd", fd);
    }
    shm.retain();
    try {
      mapShared(start, prot, Vma.Kind.FILE, name, "/memfd:" + shm.name(), shm);
    } catch (RuntimeException e) {
      shm.release();
      throw e;
    }
  }

  /**
   * Maps a whole shared-memory object that the caller holds a reference for (which the
   * mapping then owns): restore re-shares memory with this, fork shares it.
   */
  public Vma mapShared(long start, int prot, Vma.Kind kind, String name, String path,
      SharedMemory shm) {
    return map(start, shm.length(), prot, kind, name, path, 0, shm);
  }

  /** Adds a mapping of any kind (restore recreates mappings with this). */
  public Vma map(long start, long length, int prot, Vma.Kind kind, String name,
      String path, long offset) {
    return map(start, length, prot, kind, name, path, offset, null);
  }

  private synchronized Vma map(long start, long length, int prot, Vma.Kind kind, String name,
      String path, long offset, SharedMemory shared) {
    vmas.checkFree(start, length);
    Vma vma = new Vma(start, length, prot, kind, name, path, offset,
        shared != null ? shared.pageTable() : new PageTable(length / PAGE_SIZE, frames), shared);
    tracking.mapped(vma);
    vmas.add(vma);
    return vma;
  }

  /**
   * Removes a whole mapping. Its frames stay with the process's pool (freed when the process
   * goes away) but are zeroed, so nothing of the contents survives. A shared mapping lets go of
   * its object instead, whose contents the other holders keep.
   */
  @Override
  public void unmap(long start, long length) {
    Vma vma = removeMapping(start, length);
    if (vma.shared() != null) {
      vma.shared().release();
    }
  }

  private synchronized Vma removeMapping(long start, long length) {
    Vma vma = vmas.exactly(start, length);
    if (vma == null) {
      throw AccrException.failed("munmap: %x+%x is not a mapping", start, length);
    }
    if (vma.shared() == null) {
      vma.forEachTouchedPage((address, frame) -> frame.fill((byte) 0));
    }
    vmas.remove(vma);
    return vma;
  }

  /** Bytes of host memory mapped (device mappings not counted): what the process may touch. */
  public synchronized long mappedHostBytes() {
    return vmas.mappedHostBytes();
  }

  /** The mappings in address order. */
  public synchronized List<Vma> vmas() {
    return vmas.list();
  }

  /** The mapping that contains {@code address}, or null. */
  public synchronized Vma find(long address) {
    return vmas.find(address);
  }

  private Vma require(long address) {
    Vma vma = find(address);
    if (vma == null) {
      throw AccrException.failed("segmentation fault at %x: no mapping", address);
    }
    return vma;
  }

  @Override
  public MemorySegment pageForWrite(long address) {
    Vma vma = require(address);
    long index = (address - vma.start()) / PAGE_SIZE;
    MemorySegment frame = vma.pageTable().get(index);
    if (frame == null) {
      frame = faultIn(vma, index);
    }
    vma.pageTable().dirtyBits().mark(index);
    return frame;
  }

  /** The slow path of a write: a page not present yet is loaded before it is written. */
  private MemorySegment faultIn(Vma vma, long index) {
    PageFaults f = faults;
    if (f != null && f.fault(vma, index)) {
      MemorySegment frame = vma.pageTable().get(index);
      if (frame != null) {
        return frame;
      }
    }
    return install(vma, index);
  }

  private static MemorySegment install(Vma vma, long index) {
    return vma.pageTable().install(index); // a shared object's table allocates its own frames
  }

  /**
   * Copies {@code pages} whole pages from {@code source} into the run of pages at
   * {@code address}, allocating missing frames as one block for the whole run (restore fills
   * memory from several threads at once).
   */
  public void writePages(long address, MemorySegment source, long sourceOffset, int pages) {
    runs.write(require(address), address, source, sourceOffset, pages);
  }

  /**
   * Maps fresh frames, contiguous in memory, for the run of {@code pages} untouched pages at
   * {@code address} and returns them for the caller to fill (restore reads pages straight into
   * them); null when a page of the run already has a frame, and the caller uses {@link
   * #writePages} instead. The frames count as resident at once; they hold zeros until filled.
   */
  public MemorySegment freshRun(long address, int pages) {
    return runs.fresh(require(address), address, pages);
  }

  @Override
  public MemorySegment pageForRead(long address) {
    Vma vma = require(address);
    long index = (address - vma.start()) / PAGE_SIZE;
    MemorySegment frame = vma.pageTable().get(index);
    if (frame == null) {
      PageFaults f = faults;
      if (f != null && f.fault(vma, index)) {
        frame = vma.pageTable().get(index);
      }
    }
    return frame != null ? frame : ZERO_PAGE;
  }

  /**
   * Sends the first touch of every page without a frame to {@code f} (a lazy restore), or,
   * with null, back to the usual zero-filled allocation once every page is in.
   */
  public void setPageFaults(PageFaults f) {
    this.faults = f;
  }

  /** Where pages not present yet come from, or null when every page is here. */
  public PageFaults pageFaults() {
    return faults;
  }

  /**
   * Zeroed frames for {@code pages} pages, contiguous and not mapped anywhere yet: a lazy
   * loader fills them and then maps them with {@link #installRun}, so that no access ever
   * sees a page half loaded.
   */
  public MemorySegment unmappedRun(int pages) {
    return runs.unmapped(pages);
  }

  /**
   * Maps the filled frames of {@code block} (from {@link #unmappedRun}) at the run of pages at
   * {@code address}; a page that has a frame already keeps it. Returns the pages mapped.
   */
  public int installRun(long address, MemorySegment block, int pages) {
    return runs.install(require(address), address, block, pages);
  }

  /**
   * Maps the pages {@code staged} holds inside the ranges {@code allowed} (start, end pairs in
   * address order) at their addresses, in private host mappings, without a copy: the frames
   * become this address space's. Pages outside those ranges, outside such mappings or that
   * have a frame already are let go. The stage ends with this. Returns the pages mapped.
   */
  public long adoptStaged(StagedPages staged, long[] allowed) {
    long[] handed = staged.handOver(frames);
    long shift = handed[0];
    long[] adopted = {0};
    synchronized (this) {
      for (int k = 0; k + 1 < allowed.length; k += 2) {
        staged.forEachRun(allowed[k], allowed[k + 1], (address, ref, count) -> {
          long end = address + (long) count * PAGE_SIZE;
          Long from = vmas.byStart().floorKey(address);
          for (Vma vma : vmas.byStart().tailMap(from == null ? address : from).values()) {
            if (vma.start() >= end) {
              break;
            }
            long a = Math.max(address, vma.start());
            long b = Math.min(end, vma.end());
            if (b <= a || vma.shared() != null || vma.kind() == Vma.Kind.DEVICE) {
              continue;
            }
            adopted[0] += vma.pageTable().fillAbsent((a - vma.start()) / PAGE_SIZE,
                (b - a) / PAGE_SIZE, ref + shift + (a - address) / PAGE_SIZE);
          }
        });
      }
    }
    frames.release(handed[1] - adopted[0]);
    return adopted[0];
  }

  @Override
  public long readLong(long address) {
    checkAligned(address);
    return pageForRead(address).get(LONG, address % PAGE_SIZE);
  }

  @Override
  public void writeLong(long address, long value) {
    checkAligned(address);
    pageForWrite(address).set(LONG, address % PAGE_SIZE, value);
  }

  private static void checkAligned(long address) {
    if (address % Long.BYTES != 0) {
      throw AccrException.failed("bus error: unaligned access at %x", address);
    }
  }

  /**
   * Ends the current period of write tracking and starts a new one labelled {@code label}
   * (like clearing the soft-dirty bits); returns the pages written in the period that ended.
   * Called with the process frozen, so that the returned pages and the new period meet
   * exactly. Tracking costs nothing until this is first called.
   */
  public DirtyPages trackWrites(String label) {
    return trackWrites(label, SharedWrites.step());
  }

  /**
   * {@link #trackWrites(String)} as one of several address spaces tracked together (a tree):
   * a shared-memory object ends its period once in {@code step}, and its mappings report
   * that period's pages (all of them when the object's period did not begin where this address
   * space's did).
   */
  public synchronized DirtyPages trackWrites(String label, SharedWrites step) {
    return tracking.end(this, vmas.values(), label, step);
  }

  /** Stops tracking writes: the write path is back to its untracked cost. */
  public synchronized void stopTracking() {
    tracking.stop(vmas.values());
  }

  /** The label of the current tracking period, or null when writes are not tracked. */
  public synchronized String trackingSince() {
    return tracking.since();
  }

  /**
   * Gives the pages of an ended period back to the current one, as if it had not ended: a
   * dump that failed must not lose what its successor has to store.
   */
  synchronized void putBack(DirtyPages ended) {
    tracking.putBack(ended, vmas.byStart());
  }

  /**
   * Pages this address space shows: its private frames and the frames of the shared objects it
   * maps (as Linux's RSS, shared pages count in every process that maps them).
   */
  public long residentPages() {
    long pages = frames.frames();
    for (SharedMemory shm : sharedObjects()) {
      pages += shm.residentPages();
    }
    return pages;
  }

  /** Pages of private memory only: what this process alone holds. */
  public long privatePages() {
    return frames.frames();
  }

  /** The shared-memory objects this address space maps, each once, in address order. */
  public synchronized List<SharedMemory> sharedObjects() {
    List<SharedMemory> out = new ArrayList<>();
    for (Vma vma : vmas.values()) {
      if (vma.shared() != null && !out.contains(vma.shared())) {
        out.add(vma.shared());
      }
    }
    return out;
  }

  /**
   * Fills the empty address space {@code child} as fork does: private mappings with a copy of
   * every touched page, shared mappings showing the same objects, device mappings left out.
   */
  synchronized void forkInto(AddressSpace child) {
    for (Vma vma : vmas.values()) {
      if (vma.kind() == Vma.Kind.DEVICE) {
        continue;
      }
      if (vma.shared() != null) {
        vma.shared().retain();
        child.mapShared(vma.start(), vma.prot(), vma.kind(), vma.name(), vma.path(),
            vma.shared());
        continue;
      }
      child.map(vma.start(), vma.length(), vma.prot(), vma.kind(), vma.name(), vma.path(),
          vma.offset());
      vma.forEachTouchedPage((address, frame) -> MemorySegment.copy(frame, 0,
          child.pageForWrite(address), 0, PAGE_SIZE));
    }
  }

  /** Frees every page; the address space is unusable afterwards. */
  @Override
  public void close() {
    List<SharedMemory> shared = new ArrayList<>();
    synchronized (this) {
      for (Vma vma : vmas.values()) {
        if (vma.shared() != null) {
          shared.add(vma.shared());
        }
      }
      vmas.clear();
    }
    shared.forEach(SharedMemory::release);
    frames.close();
  }
}

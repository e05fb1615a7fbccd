package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.CorruptImageException;
import dev.accr.api.LazyDeviceMemory;
import dev.accr.api.LazyRestoreHost;
import dev.accr.api.PluginContext;
import dev.accr.api.ZeroedMemory;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.driver.VramFaults;
import dev.accr.kfd.plugin.LazyVramBlocks.GpuBlocks;
import dev.accr.kfd.plugin.LazyVramBlocks.Piece;
import dev.accr.kfd.plugin.LazyVramBlocks.Unit;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The VRAM (buffers and VRAM-resident SVM pages) of a lazily restored process: each 2 MiB block
 * that the images hold is loaded on its first touch by any engine ({@link VramFaults}), or by
 * the host's background pusher. A block is filled off to the side and only then becomes the
 * device's, so no engine sees it half loaded; a block freed before it was loaded is dropped.
 *
 * <p>Which blocks the chunks land in is worked out once, when first needed: by the first
 * fault or the pusher once the process runs, as nothing before it needs the list, so the
 * process's stop does not grow with its VRAM. Before the process runs only when the restore
 * reads every chunk first ({@link LazyRestoreHost#checkFirst}: a misplaced chunk is then exit 3)
 * or when a block of the process's VRAM already has memory (it is loaded then, as no fault
 * would come for it).
 */
final class LazyVram implements LazyDeviceMemory {
  private static final int ABSENT = 0;
  private static final int LOADING = 1;
  private static final int PRESENT = 2;
  /** Freed with its buffer while it was loading: the load is thrown away. */
  private static final int DROPPED = 3;

  private final Map<Vram, VramFaults> handlers = new java.util.IdentityHashMap<>();

  private final LazyRestoreHost host;
  private final LazyVramBlocks blocks;
  /** The blocks, once listed ({@link #listBlocks}); null before. */
  private volatile List<Unit> units;
  /** Each unit's state; set once, before {@link #units} is. */
  private AtomicIntegerArray states;
  private final AtomicLong faulted = new AtomicLong();
  private final AtomicLong pushed = new AtomicLong();
  private final Object changed = new Object();
  private volatile String failure;
  private volatile boolean finished;
  private int nextPush;

  private LazyVram(LazyRestoreHost host, PluginContext ctx, int pid, List<Integer> gpuIds,
      List<VramExtent> extents) {
    this.host = host;
    this.blocks = new LazyVramBlocks(ctx, pid, gpuIds, extents);
  }

  /**
   * Lists the blocks the stored chunks land in, once, whichever thread asks first.
   *
   * @throws CorruptImageException a chunk outside the process's VRAM or across a block (again
   *     on every later call)
   */
  private List<Unit> listBlocks() {
    List<Unit> listed = units;
    if (listed != null) {
      return listed;
    }
    synchronized (blocks) {
      if (units == null) {
        List<Unit> all = blocks.list();
        states = new AtomicIntegerArray(all.size());
        units = all;
      }
      return units;
    }
  }

  /**
   * {@link #listBlocks} once the process may run: a damaged image ends the lazy restore, and
   * the host kills the process with the reason.
   */
  private void listBlocksOrFail() {
    try {
      listBlocks();
    } catch (RuntimeException e) {
      throw fail("kfd: the VRAM images cannot be placed: " + e.getMessage());
    }
  }

  /** Ends the lazy restore with {@code reason}: the host kills the process; to throw. */
  private AccrException fail(String reason) {
    synchronized (changed) {
      if (failure == null) {
        failure = reason;
      }
      changed.notifyAll();
    }
    host.failed(reason);
    return AccrException.failed("%s", reason);
  }

  /**
   * Restores the process's VRAM lazily when the host asks for it; returns false (the caller
   * restores eagerly) otherwise. With the host's up-front check, every chunk is read and
   * checked now, and kept nowhere.
   */
  static boolean restore(PluginContext ctx, int pid, List<Integer> gpuIds,
      List<VramExtent> extents) {
    LazyRestoreHost host = ctx.lazyRestore();
    if (host == null) {
      return false;
    }
    LazyVram lazy = new LazyVram(host, ctx, pid, gpuIds, extents);
    try {
      if (host.checkFirst()) {
        lazy.listBlocks();
        Map<Integer, PackedRuns> packed = StoredVram.packed(ctx.images(), pid);
        for (GpuBlocks g : lazy.blocks.gpus()) {
          try (StoredVram all = StoredVram.open(ctx.images(), pid, g.gpuId(), packed)) {
            all.forEach(ctx.images().parallelism(), (pieces, data) -> {});
          }
        }
      }
      for (GpuBlocks g : lazy.blocks.gpus()) {
        VramFaults f = lazy.faultsOf(g);
        lazy.handlers.put(g.vram(), f);
        SharedGpuFaults.add(g.vram(), f);
      }
      // A block that already has memory (written while the state was restored) is loaded now:
      // a fault would never come for it.
      if (anyPresent(extents)) {
        lazy.listBlocks();
        for (int u = 0; u < lazy.units.size(); u++) {
          Unit unit = lazy.units.get(u);
          if (unit.gpu().vram().present(unit.block())) {
            lazy.ensure(u, false);
          }
        }
      }
    } catch (RuntimeException e) {
      lazy.finish();
      throw e;
    }
    host.add(lazy);
    return true;
  }

  /** Whether a block of {@code extents} has memory (none does on a GPU that holds none). */
  private static boolean anyPresent(List<VramExtent> extents) {
    for (VramExtent e : extents) {
      Vram vram = e.gpu().vram();
      if (vram.residentBytes() == 0 || e.length() == 0) {
        continue;
      }
      for (long b = e.vramOffset() / Vram.BLOCK; b <= (e.vramOffset() + e.length() - 1)
          / Vram.BLOCK; b++) {
        if (vram.present((int) b)) {
          return true;
        }
      }
    }
    return false;
  }

  private VramFaults faultsOf(GpuBlocks g) {
    return new VramFaults() {
      @Override
      public void fault(int block) {
        listBlocksOrFail();
        Integer u = g.units().get(block);
        if (u != null) {
          ensure(u, true);
        }
      }

      @Override
      public void released(int block) {
        // Called under the Vram's lock, as installFilled is: a load never lands after this.
        try {
          listBlocks(); // takes no Vram lock
        } catch (RuntimeException e) {
          return; // the restore fails on the next fault or push
        }
        Integer u = g.units().get(block);
        if (u != null && (states.compareAndSet(u, ABSENT, PRESENT)
            || states.compareAndSet(u, LOADING, DROPPED))) {
          synchronized (changed) {
            changed.notifyAll(); // freed before loaded: nothing to load
          }
        }
      }
    };
  }

  private void ensure(int u, boolean byFault) {
    while (true) {
      int state = states.get(u);
      if (state == PRESENT || state == DROPPED) {
        return;
      }
      if (failure != null) {
        throw AccrException.failed("%s", failure);
      }
      if (state == ABSENT && states.compareAndSet(u, ABSENT, LOADING)) {
        load(u, byFault);
        return;
      }
      synchronized (changed) {
        while (states.get(u) == LOADING && failure == null) {
          try {
            changed.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AccrException.failed("kfd: interrupted while waiting for a VRAM block");
          }
        }
      }
    }
  }

  private void load(int u, boolean byFault) {
    Unit unit = units.get(u);
    Arena arena = Arena.ofShared();
    boolean taken = false;
    try {
      MemorySegment block = ZeroedMemory.allocate(arena, Vram.BLOCK);
      try (Arena scratch = Arena.ofConfined()) {
        MemorySegment whole = null;
        BulkReader.Chunk inWhole = null;
        for (Piece p : unit.pieces()) {
          if (p.wholeChunk()) {
            unit.gpu().reader().read(p.chunk(), block.asSlice(p.offsetInBlock(), p.length()));
            continue;
          }
          // A packed chunk holds pieces of several places: read once, copied piece by piece.
          if (inWhole != p.chunk()) {
            whole = scratch.allocate(p.chunk().length());
            unit.gpu().reader().read(p.chunk(), whole);
            inWhole = p.chunk();
          }
          MemorySegment.copy(whole, p.offsetInChunk(), block, p.offsetInBlock(), p.length());
        }
      }
      Vram vram = unit.gpu().vram();
      synchronized (vram) { // atomic with a release of the block (see released)
        taken = !finished && states.get(u) == LOADING
            && vram.installFilled(unit.block(), arena, block);
      }
    } catch (RuntimeException e) {
      throw fail(String.format("kfd: VRAM block %d of gpu 0x%x could not be loaded: %s",
          unit.block(), unit.gpu().gpuId(), e.getMessage()));
    } finally {
      if (!taken) {
        arena.close();
      }
    }
    (byFault ? faulted : pushed).incrementAndGet();
    synchronized (changed) {
      states.compareAndSet(u, LOADING, PRESENT);
      changed.notifyAll();
    }
  }

  @Override
  public String name() {
    return "kfd VRAM blocks";
  }

  @Override
  public boolean pushNext() {
    if (failure != null || finished) {
      return false;
    }
    listBlocksOrFail();
    int u;
    synchronized (changed) {
      while (nextPush < units.size() && states.get(nextPush) != ABSENT) {
        nextPush++;
      }
      if (nextPush == units.size()) {
        awaitLoadsUnderWay(); // faults still loading: the caller finishes after them
        return false;
      }
      u = nextPush++;
    }
    if (failure != null || finished) {
      return false;
    }
    ensure(u, false);
    return true;
  }

  private void awaitLoadsUnderWay() {
    for (int u = 0; u < units.size(); u++) {
      while (states.get(u) == LOADING && failure == null) {
        try {
          changed.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw AccrException.failed("kfd: interrupted while waiting for a VRAM block");
        }
      }
    }
  }

  @Override
  public long unitsFaulted() {
    return faulted.get();
  }

  @Override
  public long unitsPushed() {
    return pushed.get();
  }

  @Override
  public long units() {
    try {
      listBlocks();
    } catch (RuntimeException e) {
      return 0; // reported by the fault or push that met it
    }
    return units.size();
  }

  @Override
  public long unitBytes() {
    return Vram.BLOCK;
  }

  @Override
  public void finish() {
    finished = true;
    for (GpuBlocks g : blocks.gpus()) {
      VramFaults f = handlers.get(g.vram());
      if (f != null) {
        SharedGpuFaults.remove(g.vram(), f);
      }
      g.reader().close();
    }
  }
}

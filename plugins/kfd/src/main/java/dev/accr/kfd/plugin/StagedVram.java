package dev.accr.kfd.plugin;

import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.api.ZeroedMemory;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.proto.KfdBoEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VRAM of a migration's pre-copy rounds, loaded on the target ahead of the stop: per
 * process, each buffer's contents in blocks of {@link Vram#BLOCK}, as the restored buffer's
 * VRAM blocks will hold them, so that the restore after the stop makes them the buffer's
 * blocks ({@link Vram#installFilled}, no copy) and reads only the links after the rounds.
 * Each round is applied as a restore applies a link (its written ranges zeroed, its stored
 * pieces copied) to the buffers it has and to its SVM pages that live in VRAM ({@link
 * StagedSvm}); a buffer it freed is dropped, one it created must be written whole by it, and
 * an SVM page that came to a GPU since the last round must be written by it. Anything it
 * cannot keep exact (a round that does not follow the last one, a new buffer not written
 * whole, a page that moved to a GPU unwritten) drops the process's stage: its restore then
 * reads every link from the images.
 */
final class StagedVram implements AutoCloseable {
  /** Staging reads a round's chunks with this many threads (the source dumps meanwhile). */
  private static final int THREADS = 2;

  /** One buffer's VRAM: a block per {@link Vram#BLOCK} of it, each in an arena of its own. */
  private static final class Extent {
    final long va;
    final long length;
    final Arena[] arenas;
    final MemorySegment[] blocks;

    Extent(long va, long length) {
      this.va = va;
      this.length = length;
      int n = (int) ((length + Vram.BLOCK - 1) / Vram.BLOCK);
      arenas = new Arena[n];
      blocks = new MemorySegment[n];
      for (int i = 0; i < n; i++) {
        arenas[i] = Arena.ofShared();
        blocks[i] = ZeroedMemory.allocate(arenas[i], Vram.BLOCK);
      }
    }

    /** Visits the parts of {@code [from, to)} (inside this extent) block by block. */
    void forEachPart(long from, long to, Part part) {
      for (long at = from; at < to; ) {
        long offset = at - va;
        int b = (int) (offset / Vram.BLOCK);
        long n = Math.min(to - at, Vram.BLOCK - offset % Vram.BLOCK);
        part.accept(blocks[b].asSlice(offset % Vram.BLOCK, n), at);
        at += n;
      }
    }

    void close() {
      for (Arena a : arenas) {
        if (a != null) {
          a.close();
        }
      }
    }
  }

  @FunctionalInterface
  private interface Part {
    void accept(MemorySegment into, long va);
  }

  /**
   * One process's stage: the rounds applied (oldest first), its buffers by GPU and va, and its
   * SVM pages in VRAM.
   */
  private static final class Staged {
    final List<String> ids = new ArrayList<>();
    final Map<Integer, TreeMap<Long, Extent>> byGpu = new TreeMap<>();
    StagedSvm svm = new StagedSvm();

    void close() {
      byGpu.values().forEach(m -> m.values().forEach(Extent::close));
      byGpu.clear();
      svm.close();
    }
  }

  private final Map<Long, Staged> byPid = new HashMap<>();

  /** Applies one round of process {@code pid}; returns whether its stage goes on. */
  synchronized boolean stage(PluginImages round, long pid) {
    Staged old = byPid.remove(pid);
    boolean incremental = round.hasEntries("vram-written", pid);
    if (!round.hasEntries("bos", pid) || (incremental && !follows(old, round))) {
      if (old != null) {
        old.close();
      }
      return false;
    }
    Staged next = new Staged();
    boolean ok = false;
    try {
      if (!incremental && old != null) {
        old.close(); // a full round is a base of its own
        old = null;
      }
      if (old != null) {
        next.ids.addAll(old.ids);
      }
      List<StoredVram.Written> written = StoredVram.written(round, pid);
      StagedSvm svm = StagedSvm.follow(old == null ? null : old.svm, round, pid,
          incremental ? written : null);
      if (svm == null) {
        return false; // an SVM page came to a GPU without this round storing it
      }
      next.svm.close();
      next.svm = svm;
      for (KfdBoEntry b : round.readEntries("bos", pid, KfdBoEntry.parser())) {
        if (!FoldedVram.holdsVram(b)) {
          continue;
        }
        Extent kept = old == null ? null : take(old, b.getGpuId(), b.getGpuVa(), b.getSize());
        if (kept == null && incremental
            && !coversWhole(written, b.getGpuId(), b.getGpuVa(), b.getSize())) {
          return false; // a buffer new since the last round and not written whole by it
        }
        next.byGpu.computeIfAbsent(b.getGpuId(), g -> new TreeMap<>()).put(b.getGpuVa(),
            kept != null ? kept : new Extent(b.getGpuVa(), b.getSize()));
      }
      for (StoredVram.Written w : written) {
        inside(next, w.gpuId(), w.va(), w.length(),
            (x, from, to) -> x.forEachPart(from, to, (into, va) -> into.fill((byte) 0)));
        // A shadow's block never written holds zeros already.
        svm.inside(w.gpuId(), w.va(), w.length(), false, (into, va) -> into.fill((byte) 0));
      }
      Map<Integer, PackedRuns> packed = StoredVram.packed(round, pid);
      for (int gpuId : FoldedVram.gpuIds(round, pid)) {
        try (StoredVram stored = StoredVram.open(round, pid, gpuId, packed)) {
          stored.forEach(THREADS, (pieces, data) -> {
            for (StoredVram.Piece p : pieces) {
              inside(next, gpuId, p.va(), p.length(), (x, from, to) -> x.forEachPart(from, to,
                  (into, va) -> MemorySegment.copy(data, p.offset() + (va - p.va()), into, 0,
                      into.byteSize())));
              svm.inside(gpuId, p.va(), p.length(), true, (into, va) -> MemorySegment.copy(
                  data, p.offset() + (va - p.va()), into, 0, into.byteSize()));
            }
          });
        }
      }
      next.ids.add(round.checkpointId());
      byPid.put(pid, next);
      ok = true;
      return true;
    } finally {
      if (old != null) {
        old.close(); // buffers freed since (those kept moved to the next stage)
      }
      if (!ok) {
        next.close();
      }
    }
  }

  private static boolean follows(Staged old, PluginImages round) {
    PluginImages parent = round.parent();
    return old != null && parent != null && !old.ids.isEmpty()
        && old.ids.getLast().equals(parent.checkpointId());
  }

  /** Removes and returns the staged buffer at {@code va} of that size, or null. */
  private static Extent take(Staged old, int gpuId, long va, long length) {
    TreeMap<Long, Extent> mine = old.byGpu.get(gpuId);
    Extent x = mine == null ? null : mine.get(va);
    if (x == null || x.length != length) {
      return null;
    }
    mine.remove(va);
    return x;
  }

  /** Whether {@code written} covers {@code [va, va + length)} of {@code gpuId} whole. */
  static boolean coversWhole(List<StoredVram.Written> written, int gpuId, long va,
      long length) {
    TreeMap<Long, Long> ranges = new TreeMap<>();
    for (StoredVram.Written w : written) {
      if (w.gpuId() == gpuId && w.va() < va + length && va < w.va() + w.length()) {
        ranges.merge(w.va(), w.va() + w.length(), Math::max);
      }
    }
    long at = va;
    for (Map.Entry<Long, Long> r : ranges.entrySet()) {
      if (r.getKey() > at) {
        return false;
      }
      at = Math.max(at, r.getValue());
    }
    return at >= va + length;
  }

  @FunctionalInterface
  private interface Overlap {
    void accept(Extent extent, long from, long to);
  }

  private static void inside(Staged s, int gpuId, long va, long length, Overlap overlap) {
    TreeMap<Long, Extent> mine = s.byGpu.get(gpuId);
    if (mine == null) {
      return;
    }
    long end = va + length;
    Long from = mine.floorKey(va);
    for (Extent x : mine.subMap(from == null ? va : from, true, end, false).values()) {
      long a = Math.max(va, x.va);
      long b = Math.min(end, x.va + x.length);
      if (b > a) {
        overlap.accept(x, a, b);
      }
    }
  }

  /**
   * Restore: makes the staged blocks of process {@code pid} the VRAM of its restored buffers
   * {@code extents}, when the stage holds exactly the oldest links of the chain being restored
   * and every one of those buffers (or the links after them write it whole: a buffer allocated
   * since the rounds) and SVM page runs ({@link StagedSvm#adoptable}); returns how many links
   * that is (the restore reads only the newer ones), or 0 when nothing was taken (the restore
   * reads every link).
   */
  static int adopt(PluginContext ctx, long pid, List<VramExtent> extents) {
    var stage = ctx.deviceStage();
    if (stage == null || !(stage.state() instanceof StagedVram staged)) {
      return 0;
    }
    return staged.adopt(FoldedVram.chain(ctx.images(), pid), pid, extents);
  }

  private synchronized int adopt(List<PluginImages> links, long pid, List<VramExtent> extents) {
    Staged s = byPid.get(pid);
    if (s == null || s.ids.isEmpty() || s.ids.size() >= links.size()) {
      return 0;
    }
    for (int i = 0; i < s.ids.size(); i++) {
      if (!links.get(links.size() - 1 - i).checkpointId().equals(s.ids.get(i))) {
        return 0;
      }
    }
    // What the links after the rounds wrote: the restore reads them over the staged bytes.
    List<StoredVram.Written> newer = new ArrayList<>();
    for (int i = 0; i < links.size() - s.ids.size(); i++) {
      newer.addAll(StoredVram.written(links.get(i), pid));
    }
    List<VramExtent> taken = new ArrayList<>();
    List<Extent> mine = new ArrayList<>();
    List<VramExtent> svmPages = new ArrayList<>();
    for (VramExtent e : extents) {
      TreeMap<Long, Extent> onGpu = s.byGpu.get(e.gpuId());
      Extent x = onGpu == null ? null : onGpu.get(e.va());
      if (x != null && x.length == e.length() && e.vramOffset() % Vram.BLOCK == 0) {
        taken.add(e);
        mine.add(x);
      } else if (s.svm.adoptable(e, newer)) {
        svmPages.add(e);
      } else if (!coversWhole(newer, e.gpuId(), e.va(), e.length())) {
        return 0; // not staged and not written whole after the rounds
      }
    }
    byPid.remove(pid);
    try {
      for (int k = 0; k < taken.size(); k++) {
        VramExtent e = taken.get(k);
        Extent x = mine.get(k);
        Vram vram = e.gpu().vram();
        int first = (int) (e.vramOffset() / Vram.BLOCK);
        for (int i = 0; i < x.blocks.length; i++) {
          if (vram.installFilled(first + i, x.arenas[i], x.blocks[i])) {
            x.arenas[i] = null; // the GPU's block now
          } else { // the block has memory already: copy into it
            long n = Math.min(Vram.BLOCK, x.length - (long) i * Vram.BLOCK);
            vram.copyIn(x.blocks[i], 0, e.vramOffset() + (long) i * Vram.BLOCK, n);
          }
        }
      }
      s.svm.install(svmPages);
    } finally {
      // Buffers of the rounds the restored process no longer has, and, after a failure,
      // those not installed yet: none is left behind.
      s.close();
    }
    return s.ids.size();
  }

  @Override
  public synchronized void close() {
    byPid.values().forEach(Staged::close);
    byPid.clear();
  }
}

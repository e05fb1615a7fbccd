package dev.accr.kfd.plugin;

import dev.accr.api.PluginImages;
import dev.accr.api.ZeroedMemory;
import dev.accr.kfd.driver.KfdCriu.VramExtent;
import dev.accr.kfd.driver.Vram;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VRAM-resident SVM pages of one process's pre-copy rounds, part of its {@link StagedVram}:
 * per GPU and SVM range, a copy of the range's VRAM shadow on that GPU (in blocks of {@link
 * Vram#BLOCK} from the range's start, as the driver lays the shadow out, each allocated on
 * first write) and which pages lived there at the last round. Pages move between system memory
 * and GPUs from round to round; the stage stays exact because a page that comes to live on a
 * GPU after a round must be stored by the next link that has it there (the driver marks a
 * moved page written), which {@link #follow} and {@link #adoptable} check: a page that lived
 * on the GPU at the last round holds the bytes of the newest link that wrote it there, as a
 * restore of the chain gives it, and any other page of the shadow is written by a newer link
 * or is not resident at all (zero in VRAM, as after a restore).
 */
final class StagedSvm {
  private static final long PAGE = 4096;
  private static final int PAGES_PER_BLOCK = (int) (Vram.BLOCK / PAGE);

  /** One range's shadow on one GPU. */
  private static final class Shadow {
    final long start;
    final long size;
    final Arena[] arenas;
    final MemorySegment[] blocks;
    /** The pages that lived on this GPU at the last round applied. */
    BitSet resident = new BitSet();

    Shadow(long start, long size) {
      this.start = start;
      this.size = size;
      int n = (int) ((size + Vram.BLOCK - 1) / Vram.BLOCK);
      arenas = new Arena[n];
      blocks = new MemorySegment[n];
    }

    /** Block {@code b}, allocated (zero) if it was not yet. Copies run on several threads. */
    synchronized MemorySegment block(int b) {
      if (blocks[b] == null) {
        arenas[b] = Arena.ofShared();
        blocks[b] = ZeroedMemory.allocate(arenas[b], Vram.BLOCK);
      }
      return blocks[b];
    }

    synchronized MemorySegment blockIfAny(int b) {
      return blocks[b];
    }

    /** Visits {@code [from, to)} (inside the range) block by block, see {@link #inside}. */
    void forEachPart(long from, long to, boolean allocate, Part part) {
      for (long at = from; at < to; ) {
        long offset = at - start;
        int b = (int) (offset / Vram.BLOCK);
        long n = Math.min(to - at, Vram.BLOCK - offset % Vram.BLOCK);
        MemorySegment block = allocate ? block(b) : blockIfAny(b);
        if (block != null) {
          part.accept(block.asSlice(offset % Vram.BLOCK, n), at);
        }
        at += n;
      }
    }

    synchronized void close() {
      for (int b = 0; b < arenas.length; b++) {
        if (arenas[b] != null) {
          arenas[b].close();
          arenas[b] = null;
          blocks[b] = null;
        }
      }
    }
  }

  @FunctionalInterface
  interface Part {
    void accept(MemorySegment into, long va);
  }

  /** GPU id -> range start -> shadow. */
  private final Map<Integer, TreeMap<Long, Shadow>> byGpu = new TreeMap<>();

  /**
   * The shadows of {@code round}: those of {@code old} (removed from it) for ranges whose
   * pages live on the same GPU again, new ones otherwise, each with the round's residency.
   * With {@code written} (an incremental round's written ranges), a page that lives on a GPU
   * now but did not at the last round must be among them; returns null when one is not, or
   * when the round's ranges do not add up (the stage cannot be kept exact).
   */
  static StagedSvm follow(StagedSvm old, PluginImages round, long pid,
      List<StoredVram.Written> written) {
    StagedSvm next = new StagedSvm();
    if (!round.hasEntries("svm", pid)) {
      return next;
    }
    boolean ok = false;
    try {
      for (KfdSvmRangeEntry r : round.readEntries("svm", pid, KfdSvmRangeEntry.parser())) {
        long start = r.getStart();
        long size = r.getSize();
        if (size <= 0 || size % PAGE != 0 || Long.compareUnsigned(size,
            KfdImageChecks.MAX_SVM_BYTES) > 0 || start < 0 || start % PAGE != 0) {
          return null;
        }
        long pages = size / PAGE;
        Map<Integer, BitSet> where = new HashMap<>();
        for (SvmResidencyRun run : r.getResidencyList()) {
          long first = Integer.toUnsignedLong(run.getFirstPage());
          long n = Integer.toUnsignedLong(run.getPages());
          if (first + n > pages) {
            return null;
          }
          if (run.getLocation() != 0 && n > 0) {
            where.computeIfAbsent(run.getLocation(), g -> new BitSet())
                .set((int) first, (int) (first + n));
          }
        }
        for (Map.Entry<Integer, BitSet> e : where.entrySet()) {
          int gpuId = e.getKey();
          Shadow kept = old == null ? null : old.take(gpuId, start, size);
          if (written != null && !newcomersWritten(kept == null ? null : kept.resident,
              e.getValue(), gpuId, start, written)) {
            if (kept != null) {
              kept.close();
            }
            return null;
          }
          Shadow s = kept != null ? kept : new Shadow(start, size);
          s.resident = e.getValue();
          Shadow twice = next.byGpu.computeIfAbsent(gpuId, g -> new TreeMap<>()).put(start, s);
          if (twice != null) {
            twice.close(); // two ranges at one start: no driver wrote that; the images tell
            return null;
          }
        }
      }
      ok = true;
      return next;
    } finally {
      if (!ok) {
        next.close();
      }
    }
  }

  /** Whether the pages of {@code now} not in {@code held} (may be null) are all written. */
  private static boolean newcomersWritten(BitSet held, BitSet now, int gpuId, long start,
      List<StoredVram.Written> written) {
    BitSet newcomers = (BitSet) now.clone();
    if (held != null) {
      newcomers.andNot(held);
    }
    for (int i = newcomers.nextSetBit(0); i >= 0; ) {
      int j = newcomers.nextClearBit(i);
      if (!StagedVram.coversWhole(written, gpuId, start + i * PAGE, (j - i) * PAGE)) {
        return false;
      }
      i = newcomers.nextSetBit(j);
    }
    return true;
  }

  private Shadow take(int gpuId, long start, long size) {
    TreeMap<Long, Shadow> mine = byGpu.get(gpuId);
    Shadow s = mine == null ? null : mine.get(start);
    if (s == null || s.size != size) {
      return null;
    }
    mine.remove(start);
    return s;
  }

  /** The shadow on {@code gpuId} whose range holds {@code [va, va + length)}, or null. */
  private Shadow holding(int gpuId, long va, long length) {
    TreeMap<Long, Shadow> mine = byGpu.get(gpuId);
    var e = mine == null ? null : mine.floorEntry(va);
    if (e == null || length < 0 || va - e.getKey() > e.getValue().size - length) {
      return null;
    }
    return e.getValue();
  }

  /**
   * Visits the parts of {@code [va, va + length)} of {@code gpuId} that lie in a shadow, block
   * by block; with {@code allocate} false, only blocks written before (the others are zero).
   */
  void inside(int gpuId, long va, long length, boolean allocate, Part part) {
    TreeMap<Long, Shadow> mine = byGpu.get(gpuId);
    if (mine == null) {
      return;
    }
    long end = va + length;
    Long from = mine.floorKey(va);
    for (Shadow s : mine.subMap(from == null ? va : from, true, end, false).values()) {
      long a = Math.max(va, s.start);
      long b = Math.min(end, s.start + s.size);
      if (b > a) {
        s.forEachPart(a, b, allocate, part);
      }
    }
  }

  /**
   * Whether the restore can take {@code e} (a run of SVM pages in VRAM) from this stage: its
   * range has a shadow on that GPU here, and each page of it that did not live there at the
   * last round is written by a link after the rounds ({@code newer}).
   */
  boolean adoptable(VramExtent e, List<StoredVram.Written> newer) {
    Shadow s = holding(e.gpuId(), e.va(), e.length());
    if (s == null || e.va() % PAGE != 0 || e.length() % PAGE != 0) {
      return false;
    }
    BitSet pages = new BitSet();
    int first = (int) ((e.va() - s.start) / PAGE);
    pages.set(first, first + (int) (e.length() / PAGE));
    return newcomersWritten(s.resident, pages, e.gpuId(), s.start, newer);
  }

  /**
   * Makes the staged pages the VRAM of the restored runs {@code extents} (each {@link
   * #adoptable}): a staged block becomes the shadow's VRAM block (its pages that are not
   * resident now zeroed first: a restore leaves them zero) when the shadow starts a block and
   * the block has no memory yet; otherwise the pages that lived there at the last round are
   * copied. Pages resident now but not then are left to the newer links.
   */
  void install(List<VramExtent> extents) {
    Map<Shadow, List<VramExtent>> byShadow = new HashMap<>();
    for (VramExtent e : extents) {
      byShadow.computeIfAbsent(holding(e.gpuId(), e.va(), e.length()), s -> new ArrayList<>())
          .add(e);
    }
    for (Map.Entry<Shadow, List<VramExtent>> entry : byShadow.entrySet()) {
      Shadow s = entry.getKey();
      VramExtent any = entry.getValue().getFirst();
      long shadowOffset = any.vramOffset() - (any.va() - s.start);
      Vram vram = any.gpu().vram();
      BitSet now = new BitSet();
      for (VramExtent e : entry.getValue()) {
        int first = (int) ((e.va() - s.start) / PAGE);
        now.set(first, first + (int) (e.length() / PAGE));
      }
      for (int b = 0; b < s.blocks.length; b++) {
        int from = b * PAGES_PER_BLOCK;
        int to = (int) Math.min(from + PAGES_PER_BLOCK, s.size / PAGE);
        if (now.nextSetBit(from) < 0 || now.nextSetBit(from) >= to) {
          continue; // nothing of this block lives in VRAM now
        }
        MemorySegment block = s.blocks[b];
        long vramAt = shadowOffset + (long) b * Vram.BLOCK;
        if (block != null && vramAt % Vram.BLOCK == 0) {
          for (int p = from; p < to; p++) {
            if (!now.get(p)) {
              block.asSlice((long) (p - from) * PAGE, PAGE).fill((byte) 0);
            }
          }
          if (vram.installFilled((int) (vramAt / Vram.BLOCK), s.arenas[b], block)) {
            s.arenas[b] = null; // the GPU's block now
            s.blocks[b] = null;
            continue;
          }
        }
        copyPages(s, b, from, to, now, vram, vramAt);
      }
    }
  }

  /** Copies the pages of block {@code b} resident then and now into VRAM at {@code vramAt}. */
  private static void copyPages(Shadow s, int b, int from, int to, BitSet now, Vram vram,
      long vramAt) {
    MemorySegment block = s.blocks[b];
    for (int p = from; p < to; p++) {
      if (now.get(p) && s.resident.get(p)) {
        long at = vramAt + (long) (p - from) * PAGE;
        if (block != null) {
          vram.copyIn(block, (long) (p - from) * PAGE, at, PAGE);
        } else if (vram.present((int) (at / Vram.BLOCK))) {
          vram.forWrite(at, PAGE).fill((byte) 0); // staged as zero
        }
      }
    }
  }

  void close() {
    byGpu.values().forEach(m -> m.values().forEach(Shadow::close));
    byGpu.clear();
  }
}

package dev.accr.kfd.plugin;

import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginImages;
import dev.accr.api.ZeroedMemory;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VRAM of one process as a chain of sets holds it, folded into host memory as a restore
 * would fill it: each buffer and VRAM-resident SVM page run of the last link, zero at first,
 * then from the oldest link on each link's written ranges zeroed and its stored pieces copied.
 * What {@code accr compact} stores as a full set, and what {@code accr diff} compares when it
 * cannot compare from the stored pages alone. Memory comes zeroed from the kernel, so pages
 * never stored take no room.
 */
final class FoldedVram implements AutoCloseable {
  /**
   * One buffer or SVM page run: {@code base} is where its chunks are cut from (the buffer's or
   * the SVM range's start), as a full dump cuts them, so that none crosses a VRAM block.
   */
  record Extent(int gpuId, long va, long length, long base, MemorySegment data) {}

  private final Arena arena = Arena.ofShared();
  private final Map<Integer, TreeMap<Long, Extent>> byGpu = new TreeMap<>();

  private FoldedVram() {}

  /** The VRAM of {@code pid} as the chain ending in {@code last} holds it. */
  static FoldedVram of(PluginImages last, long pid) {
    FoldedVram f = new FoldedVram();
    try {
      forEachExtent(last, pid, f::add);
      List<PluginImages> links = chain(last, pid);
      for (int i = links.size() - 1; i >= 0; i--) {
        f.apply(links.get(i), pid);
      }
      return f;
    } catch (RuntimeException e) {
      f.close();
      throw e;
    }
  }

  /** Receives one VRAM extent of a set. */
  @FunctionalInterface
  interface ExtentSink {
    void accept(int gpuId, long va, long length, long base);
  }

  /**
   * Whether a buffer entry's VRAM is stored with it: a buffer of its own, or an import that
   * keeps a dma-buf whose exporter freed its buffer.
   */
  static boolean holdsVram(KfdBoEntry b) {
    return b.getDomain() == BoDomain.VRAM && (!b.getImported() || b.getKeepsMemory());
  }

  /**
   * The VRAM of {@code pid} in a set, as its entries describe it: each VRAM buffer whose
   * contents it holds ({@link #holdsVram}) and each run of SVM pages that lives in VRAM.
   */

  static void forEachExtent(PluginImages set, long pid, ExtentSink sink) {
    for (KfdBoEntry b : set.readEntries("bos", pid, KfdBoEntry.parser())) {
      if (holdsVram(b)) {
        sink.accept(b.getGpuId(), b.getGpuVa(), b.getSize(), b.getGpuVa());
      }
    }
    if (set.hasEntries("svm", pid)) {
      for (KfdSvmRangeEntry r : set.readEntries("svm", pid, KfdSvmRangeEntry.parser())) {
        for (SvmResidencyRun run : r.getResidencyList()) {
          if (run.getLocation() != 0) {
            sink.accept(run.getLocation(), r.getStart() + (long) run.getFirstPage() * 4096,
                (long) run.getPages() * 4096, r.getStart());
          }
        }
      }
    }
  }

  /** The links whose VRAM makes up the state of {@code last}, newest first. */
  static List<PluginImages> chain(PluginImages last, long pid) {
    List<PluginImages> links = new ArrayList<>();
    PluginImages link = last;
    links.add(link);
    while (link.hasEntries("vram-written", pid)) {
      link = link.parent();
      if (link == null) {
        throw new CorruptImageException(StoredVram.writtenFile(pid),
            "an incremental VRAM image in a set without parent");
      }
      links.add(link);
    }
    return links;
  }

  private void add(int gpuId, long va, long length, long base) {
    if (length <= 0 || length > (1L << 40)) {
      throw new CorruptImageException("kfd-bos.img", String.format("a VRAM extent at va 0x%x"
          + " of %d bytes on gpu 0x%x", va, length, gpuId));
    }
    byGpu.computeIfAbsent(gpuId, g -> new TreeMap<>())
        .put(va, new Extent(gpuId, va, length, base, ZeroedMemory.allocate(arena, length)));
  }

  /** One link's changes: its written ranges zeroed, then its stored pieces copied. */
  private void apply(PluginImages link, long pid) {
    for (StoredVram.Written w : StoredVram.written(link, pid)) {
      inside(w.gpuId(), w.va(), w.length(), (x, from, to) ->
          x.data().asSlice(from - x.va(), to - from).fill((byte) 0));
    }
    Map<Integer, PackedRuns> packed = StoredVram.packed(link, pid);
    for (int gpuId : gpuIds(link, pid)) {
      try (StoredVram stored = StoredVram.open(link, pid, gpuId, packed)) {
        stored.forEach(1, (pieces, data) -> {
          for (StoredVram.Piece p : pieces) {
            inside(gpuId, p.va(), p.length(), (x, from, to) -> MemorySegment.copy(data,
                p.offset() + (from - p.va()), x.data(), from - x.va(), to - from));
          }
        });
      }
    }
  }

  static List<Integer> gpuIds(PluginImages link, long pid) {
    return link.readEntries("devices", pid, dev.accr.kfd.proto.KfdDeviceEntry.parser()).stream()
        .map(d -> d.getGpuId()).toList();
  }

  @FunctionalInterface
  private interface Overlap {
    void accept(Extent extent, long from, long to);
  }

  /** The parts of [va, va + length) of {@code gpuId} inside the extents, one call each. */
  private void inside(int gpuId, long va, long length, Overlap overlap) {
    TreeMap<Long, Extent> mine = byGpu.get(gpuId);
    if (mine == null) {
      return;
    }
    long end = va + length;
    Long from = mine.floorKey(va);
    for (Extent x : mine.subMap(from == null ? va : from, true, end, false).values()) {
      long a = Math.max(va, x.va());
      long b = Math.min(end, x.va() + x.length());
      if (b > a) {
        overlap.accept(x, a, b);
      }
    }
  }

  /** The extents of {@code gpuId}, by GPU address. */
  Collection<Extent> extents(int gpuId) {
    return byGpu.getOrDefault(gpuId, new TreeMap<>()).values();
  }

  @Override
  public void close() {
    arena.close();
  }
}

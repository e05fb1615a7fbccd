package dev.accr.kfd.driver;

import dev.accr.kfd.proto.BoDomain;
import java.util.ArrayList;
import java.util.List;

/** The VRAM of a process that a dump saves, whole or only where written, as extents. */
final class VramExtents {
  private VramExtents() {}

  /**
   * Whether a dump of {@code bo}'s process saves its contents: its own buffers, and an import
   * of a dma-buf whose exporter freed its buffer, if it is the oldest holder left.
   */
  static boolean keepsContents(Bo bo) {
    DmaBuf shared = bo.dmaBuf();
    return !bo.imported() || (shared != null && shared.keptBy(bo));
  }

  /** See {@link KfdCriu#vramExtents}. */
  static List<KfdCriu.VramExtent> all(KfdProcess p) {
    List<KfdCriu.VramExtent> out = new ArrayList<>();
    for (Bo bo : p.vm.bos()) {
      if (bo.domain() == BoDomain.VRAM && keepsContents(bo)) { // imports: by the exporter
        out.add(new KfdCriu.VramExtent(bo.gpuId(), bo.gpu(), bo.va(), bo.vramOffset(),
            bo.size(), bo.cpuReachable()));
      }
    }
    for (SvmRange r : p.vm.svmRanges()) {
      int[] where = r.residency();
      for (int i = 0; i < where.length; ) {
        int j = i;
        while (j < where.length && where[j] == where[i]) {
          j++;
        }
        addSvmPages(p, r, where[i], i, j, out);
        i = j;
      }
    }
    return out;
  }

  /** See {@link KfdCriu#dirtyVramExtents(KfdProcess, DirtyPages, int)}. */
  static List<KfdCriu.VramExtent> dirty(KfdProcess p, DirtyPages pages, int maxGapPages) {
    List<KfdCriu.VramExtent> out = new ArrayList<>();
    for (DirtyPages.BoPages b : pages.bos()) {
      Bo bo = p.vm.boAt(b.va());
      if (b.domain() != BoDomain.VRAM || bo == null || bo.handle() != b.handle()
          || !keepsContents(bo)) {
        continue;
      }
      for (PageBitmap.Run run : b.dirty().runs(maxGapPages)) {
        long offset = bo.vramOffset() + run.offset();
        out.add(new KfdCriu.VramExtent(bo.gpuId(), bo.gpu(), bo.va() + run.offset(), offset,
            run.bytes(), offset + run.bytes() <= bo.gpu().vram().visibleBytes()));
      }
    }
    for (DirtyPages.SvmPages s : pages.svmRanges()) {
      SvmRange r = p.vm.svmAt(s.start());
      if (r == null || r.start() != s.start()) {
        continue;
      }
      int[] where = r.residency();
      for (int i = 0; i < where.length; ) {
        int j = i;
        while (j < where.length && where[j] == where[i] && s.dirty().contains(j)) {
          j++;
        }
        if (j == i) {
          i++;
          continue;
        }
        addSvmPages(p, r, where[i], i, j, out);
        i = j;
      }
    }
    return out;
  }

  /** Pages {@code [from, to)} of {@code r}, all at {@code location}: an extent if on a GPU. */
  private static void addSvmPages(KfdProcess p, SvmRange r, int location, int from, int to,
      List<KfdCriu.VramExtent> out) {
    if (location == SvmRange.SYSTEM) {
      return;
    }
    Gpu g = p.vm.gpu(location);
    long offset = p.vm.shadowOf(r, location) + (long) from * GpuVm.PAGE;
    long length = (long) (to - from) * GpuVm.PAGE;
    out.add(new KfdCriu.VramExtent(location, g, r.start() + (long) from * GpuVm.PAGE, offset,
        length, offset + length <= g.vram().visibleBytes()));
  }
}

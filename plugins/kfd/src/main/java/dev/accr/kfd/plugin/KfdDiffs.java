package dev.accr.kfd.plugin;

import dev.accr.api.PageDigests;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.kfd.proto.KfdBoChange;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDiff;
import dev.accr.kfd.proto.KfdPageCounts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code accr diff} shows of two kfd dumps of one process: each buffer object's VRAM
 * pages, as each set's chain holds them, compared by content (a hash of each page). A page
 * stored in only one set was zero or untouched in the other; GTT buffers are host memory,
 * compared by the core.
 */
final class KfdDiffs {
  private KfdDiffs() {}

  /**
   * The buffer objects of both sets, compared; null if neither has kfd devices. Sets of one
   * chain are compared from the pages their links wrote ({@link VramDigests#fast}).
   */
  static PluginReport diff(PluginImages from, PluginImages to) {
    return diff(from, to, true);
  }

  /** {@link #diff}, reading every stored page of both chains unless {@code fast}. */
  static PluginReport diff(PluginImages from, PluginImages to, boolean fast) {
    if (from.entryIds("devices").isEmpty() && to.entryIds("devices").isEmpty()) {
      return null;
    }
    // by process, then GPU: processes of one tree may use the same GPU addresses
    Map<String, KfdBoEntry[]> bos = new TreeMap<>();
    List<Map<String, NavigableMap<Long, Long>>> vram = List.of(new HashMap<>(), new HashMap<>());
    Set<Long> pids = new TreeSet<>(from.entryIds("devices"));
    pids.retainAll(to.entryIds("devices"));
    for (long pid : pids) {
      VramDigests.Pair pair = fast ? VramDigests.fast(from, to, pid) : null;
      if (pair == null) {
        pair = VramDigests.slow(from, to, pid);
      }
      pair.from().forEach((gpu, pages) -> vram.get(0).put(key(pid, gpu), pages));
      pair.to().forEach((gpu, pages) -> vram.get(1).put(key(pid, gpu), pages));
    }
    List<PluginImages> sides = List.of(from, to);
    for (int side = 0; side < 2; side++) {
      PluginImages images = sides.get(side);
      for (long pid : images.entryIds("devices")) {
        if (!pids.contains(pid)) { // a process in one set only: its buffers added or removed
          int s = side;
          VramDigests.of(images, pid).forEach((gpu, pages) -> vram.get(s).put(key(pid, gpu),
              pages));
        }
        for (KfdBoEntry bo : images.readEntries("bos", pid, KfdBoEntry.parser())) {
          bos.computeIfAbsent(key(pid, bo.getGpuId()) + String.format("-%016x", bo.getGpuVa()),
              k -> new KfdBoEntry[2])[side] = bo;
        }
      }
    }
    KfdDiff.Builder out = KfdDiff.newBuilder();
    for (var e : bos.entrySet()) {
      KfdBoEntry[] pair = e.getValue();
      KfdBoEntry bo = pair[0] != null ? pair[0] : pair[1];
      String gpuKey = e.getKey().substring(0, e.getKey().lastIndexOf('-'));
      NavigableMap<Long, Long> a = vram.get(0).getOrDefault(gpuKey, new TreeMap<>());
      NavigableMap<Long, Long> b = vram.get(1).getOrDefault(gpuKey, new TreeMap<>());
      out.addBos(KfdBoChange.newBuilder().setGpuId(bo.getGpuId()).setHandle(bo.getHandle())
          .setGpuVa(bo.getGpuVa())
          .setStatus(pair[0] == null ? "added" : pair[1] == null ? "removed" : "")
          .setPages(compare(a, b, bo.getGpuVa(), bo.getGpuVa() + bo.getSize())));
    }
    KfdDiff diff = out.build();
    return new PluginReport(diff, List.of(table(diff)));
  }

  private static String key(long pid, int gpu) {
    return String.format("%010d-%010d", pid, Integer.toUnsignedLong(gpu));
  }

  /** The saved pages of a and b in [start, end), compared. */
  static KfdPageCounts compare(NavigableMap<Long, Long> a, NavigableMap<Long, Long> b,
      long start, long end) {
    PageDigests.Counts c = PageDigests.compare(a, b, start, end);
    return KfdPageCounts.newBuilder().setChanged(c.changed()).setAdded(c.added())
        .setRemoved(c.removed()).setSame(c.same()).build();
  }

  private static ReportTable table(KfdDiff diff) {
    List<List<String>> rows = new ArrayList<>();
    for (KfdBoChange b : diff.getBosList()) {
      KfdPageCounts p = b.getPages();
      rows.add(List.of(Cells.hex(b.getGpuId()), String.valueOf(b.getHandle()),
          Cells.hex(b.getGpuVa()), b.getStatus().isEmpty() ? "kept" : b.getStatus(),
          String.valueOf(p.getChanged()), String.valueOf(p.getAdded()),
          String.valueOf(p.getRemoved()), String.valueOf(p.getSame())));
    }
    return new ReportTable("gpu buffer objects (pages of VRAM; GTT buffers are host memory)",
        List.of("gpu", "bo", "gpu va", "bo state", "changed", "added", "removed", "same"), rows);
  }
}

package dev.accr.kfd.plugin;

import dev.accr.api.PageDigests;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.kfd.proto.KfdBoChange;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdDiff;
import dev.accr.kfd.proto.KfdPageCounts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code accr diff} shows of two kfd dumps of one process: each buffer object's saved
 * VRAM pages compared by content (a hash of each page). A page saved in only one set was zero
 * or untouched in the other; GTT buffers are host memory, compared by the core.
 */
final class KfdDiffs {
  private static final long PAGE = 4096;

  private KfdDiffs() {}

  /** The buffer objects of both sets, compared; null if neither has kfd devices. */
  static PluginReport diff(PluginImages from, PluginImages to) {
    if (from.entryIds("devices").isEmpty() && to.entryIds("devices").isEmpty()) {
      return null;
    }
    Map<String, KfdBoEntry[]> bos = new TreeMap<>();
    List<Map<Integer, NavigableMap<Long, Long>>> vram = List.of(new HashMap<>(), new HashMap<>());
    List<PluginImages> sides = List.of(from, to);
    for (int side = 0; side < 2; side++) {
      PluginImages images = sides.get(side);
      for (long pid : images.entryIds("devices")) {
        for (KfdDeviceEntry d : images.readEntries("devices", pid, KfdDeviceEntry.parser())) {
          vram.get(side).put(d.getGpuId(), pageHashes(images, pid, d.getGpuId()));
        }
        for (KfdBoEntry bo : images.readEntries("bos", pid, KfdBoEntry.parser())) {
          bos.computeIfAbsent(String.format("%010d-%016x", bo.getGpuId(), bo.getGpuVa()),
              k -> new KfdBoEntry[2])[side] = bo;
        }
      }
    }
    KfdDiff.Builder out = KfdDiff.newBuilder();
    for (KfdBoEntry[] pair : bos.values()) {
      KfdBoEntry bo = pair[0] != null ? pair[0] : pair[1];
      NavigableMap<Long, Long> a = vram.get(0).getOrDefault(bo.getGpuId(), new TreeMap<>());
      NavigableMap<Long, Long> b = vram.get(1).getOrDefault(bo.getGpuId(), new TreeMap<>());
      out.addBos(KfdBoChange.newBuilder().setGpuId(bo.getGpuId()).setHandle(bo.getHandle())
          .setGpuVa(bo.getGpuVa())
          .setStatus(pair[0] == null ? "added" : pair[1] == null ? "removed" : "")
          .setPages(compare(a, b, bo.getGpuVa(), bo.getGpuVa() + bo.getSize())));
    }
    KfdDiff diff = out.build();
    return new PluginReport(diff, List.of(table(diff)));
  }

  /** A hash of every saved page of a GPU's VRAM, by GPU address; reading checks every chunk. */
  static NavigableMap<Long, Long> pageHashes(PluginImages images, long pid, int gpuId) {
    Map<Long, Long> out = new ConcurrentHashMap<>();
    try (StoredVram stored = StoredVram.open(images, gpuId, StoredVram.packed(images, pid))) {
      stored.forEach(1, (pieces, data) -> {
        for (StoredVram.Piece p : pieces) {
          for (long at = 0; at < p.length(); at += PAGE) {
            out.put(p.va() + at, PageDigests.digest(data.asSlice(p.offset() + at,
                Math.min(PAGE, p.length() - at))));
          }
        }
      });
    }
    return new TreeMap<>(out);
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

package dev.accr.kfd.plugin;

import dev.accr.api.BulkReader;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.kfd.proto.KfdBoChange;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdDiff;
import dev.accr.kfd.proto.KfdPageCounts;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
  private static final int PAGE = 4096;

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
          vram.get(side).put(d.getGpuId(), pageHashes(images, d.getGpuId()));
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
  static NavigableMap<Long, Long> pageHashes(PluginImages images, int gpuId) {
    Map<Long, Long> out = new ConcurrentHashMap<>();
    try (BulkReader reader = images.openBulk("vram", gpuId)) {
      reader.forEach(1, (key, data) -> {
        for (long at = 0; at < data.byteSize(); at += PAGE) {
          out.put(key + at, hash(data.asSlice(at, Math.min(PAGE, data.byteSize() - at))));
        }
      });
    }
    return new TreeMap<>(out);
  }

  /** The saved pages of a and b in [start, end), compared. */
  static KfdPageCounts compare(NavigableMap<Long, Long> a, NavigableMap<Long, Long> b,
      long start, long end) {
    KfdPageCounts.Builder counts = KfdPageCounts.newBuilder();
    NavigableMap<Long, Long> ra = a.subMap(start, true, end, false);
    NavigableMap<Long, Long> rb = b.subMap(start, true, end, false);
    for (var e : ra.entrySet()) {
      Long other = rb.get(e.getKey());
      if (other == null) {
        counts.setRemoved(counts.getRemoved() + 1);
      } else if (other.equals(e.getValue())) {
        counts.setSame(counts.getSame() + 1);
      } else {
        counts.setChanged(counts.getChanged() + 1);
      }
    }
    counts.setAdded(rb.keySet().stream().filter(page -> !ra.containsKey(page)).count());
    return counts.build();
  }

  private static long hash(MemorySegment page) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(page.asByteBuffer());
      return MemorySegment.ofArray(sha.digest()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
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

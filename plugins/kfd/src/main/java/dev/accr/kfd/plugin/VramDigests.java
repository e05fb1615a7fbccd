package dev.accr.kfd.plugin;

import dev.accr.api.PageDigests;
import dev.accr.api.PluginImages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Page digests of the VRAM of one process as two chains hold it, for {@code accr diff}. A
 * page of a set is the one of the newest link that wrote it (a full link writes every page):
 * a digest when that link stores it, absent when it only zeroed it; only pages inside the
 * set's own VRAM buffers and VRAM-resident SVM pages count.
 *
 * <p>{@link #slow} reads every stored page of both chains. {@link #fast} uses what the links
 * record: when the chains share a link, only pages written by the links after it (on either
 * side) can differ; those are read and digested, at each side's newest link that holds them,
 * and every other page, present or not as the shared link has it, gets one placeholder on both
 * sides (the same page). The counts of a comparison are thus those of the slow way.
 */
final class VramDigests {
  private static final long PAGE = 4096;
  /** The value of a page both sides hold unchanged. */
  private static final long SAME = 0;

  private VramDigests() {}

  /** Per side (from, to), per GPU, a value by page address. */
  record Pair(Map<Integer, NavigableMap<Long, Long>> from,
      Map<Integer, NavigableMap<Long, Long>> to) {}

  /** Every stored page of both chains, read and digested. */
  static Pair slow(PluginImages from, PluginImages to, long pid) {
    return new Pair(of(from, pid), of(to, pid));
  }

  /** The digests of every VRAM page {@code set}'s chain holds for {@code pid}, by GPU. */
  static Map<Integer, NavigableMap<Long, Long>> of(PluginImages set, long pid) {
    return mine(set, pid, fold(FoldedVram.chain(set, pid), pid, null, true));
  }

  /** From the links' records, or null when the chains share no link. */
  static Pair fast(PluginImages from, PluginImages to, long pid) {
    List<PluginImages> a = FoldedVram.chain(from, pid);
    List<PluginImages> b = FoldedVram.chain(to, pid);
    Set<String> ids = new HashSet<>();
    a.forEach(l -> ids.add(l.checkpointId()));
    int shared = -1;
    for (int i = 0; i < b.size() && shared < 0; i++) {
      if (!b.get(i).checkpointId().isEmpty() && ids.contains(b.get(i).checkpointId())) {
        shared = i;
      }
    }
    if (shared < 0) {
      return null;
    }
    String common = b.get(shared).checkpointId();
    int sharedInA = 0;
    while (!a.get(sharedInA).checkpointId().equals(common)) {
      sharedInA++;
    }
    Map<Integer, TreeSet<Long>> changed = new TreeMap<>();
    for (PluginImages l : a.subList(0, sharedInA)) {
      writtenPages(l, pid, changed);
    }
    for (PluginImages l : b.subList(0, shared)) {
      writtenPages(l, pid, changed);
    }
    Map<Integer, NavigableMap<Long, Long>> unchanged =
        fold(b.subList(shared, b.size()), pid, null, false);
    unchanged.forEach((gpu, pages) -> pages.keySet()
        .removeAll(changed.getOrDefault(gpu, new TreeSet<>())));
    return new Pair(mine(from, pid, merge(unchanged, fold(a, pid, changed, true))),
        mine(to, pid, merge(unchanged, fold(b, pid, changed, true))));
  }

  private static void writtenPages(PluginImages link, long pid, Map<Integer, TreeSet<Long>> into) {
    for (StoredVram.Written w : StoredVram.written(link, pid)) {
      TreeSet<Long> pages = into.computeIfAbsent(w.gpuId(), g -> new TreeSet<>());
      for (long at = 0; at < w.length(); at += PAGE) {
        pages.add(w.va() + at);
      }
    }
  }

  private static Map<Integer, NavigableMap<Long, Long>> merge(
      Map<Integer, NavigableMap<Long, Long>> unchanged,
      Map<Integer, NavigableMap<Long, Long>> changed) {
    Map<Integer, NavigableMap<Long, Long>> out = new TreeMap<>();
    unchanged.forEach((gpu, pages) -> out.put(gpu, new TreeMap<>(pages)));
    changed.forEach((gpu, pages) -> out.computeIfAbsent(gpu, g -> new TreeMap<>()).putAll(pages));
    return out;
  }

  /**
   * The pages of the chain {@code links} (newest first), each from the newest link that wrote
   * it: only those in {@code only} unless null; digested, or {@link #SAME} without reading.
   */
  private static Map<Integer, NavigableMap<Long, Long>> fold(List<PluginImages> links, long pid,
      Map<Integer, TreeSet<Long>> only, boolean digest) {
    Map<Integer, NavigableMap<Long, Long>> out = new TreeMap<>();
    Map<Integer, Set<Long>> decided = new TreeMap<>();
    for (PluginImages link : links) {
      Map<Integer, PackedRuns> packed = StoredVram.packed(link, pid);
      for (int gpuId : FoldedVram.gpuIds(link, pid)) {
        NavigableMap<Long, Long> pages = out.computeIfAbsent(gpuId, g -> new TreeMap<>());
        Set<Long> done = decided.getOrDefault(gpuId, Set.of());
        TreeSet<Long> wanted = only == null ? null : only.getOrDefault(gpuId, new TreeSet<>());
        try (StoredVram stored = StoredVram.open(link, pid, gpuId, packed);
            Arena arena = Arena.ofConfined()) {
          MemorySegment buffer = null;
          for (StoredVram.Placed c : stored.chunks()) {
            List<long[]> take = new ArrayList<>(); // page address, offset in the chunk
            for (StoredVram.Piece p : c.pieces()) {
              if (wanted != null && !overlaps(wanted, p.va(), p.length())) {
                continue;
              }
              for (long at = 0; at < p.length(); at += PAGE) {
                long page = p.va() + at;
                if ((wanted == null || wanted.contains(page)) && !done.contains(page)
                    && !pages.containsKey(page)) {
                  take.add(new long[] {page, p.offset() + at});
                }
              }
            }
            if (take.isEmpty()) {
              continue;
            }
            if (digest) {
              if (buffer == null || buffer.byteSize() < c.chunk().length()) {
                buffer = arena.allocate(Math.max(c.chunk().length(), 1 << 20));
              }
              stored.reader().read(c.chunk(), buffer.asSlice(0, c.chunk().length()));
            }
            for (long[] t : take) {
              pages.put(t[0], digest ? PageDigests.digest(buffer.asSlice(t[1],
                  Math.min(PAGE, c.chunk().length() - t[1]))) : SAME);
            }
          }
        }
      }
      if (!link.hasEntries("vram-written", pid)) {
        break; // a full link: every page is decided
      }
      for (StoredVram.Written w : StoredVram.written(link, pid)) {
        Set<Long> pages = decided.computeIfAbsent(w.gpuId(), g -> new HashSet<>());
        for (long at = 0; at < w.length(); at += PAGE) {
          pages.add(w.va() + at);
        }
      }
    }
    return out;
  }

  private static boolean overlaps(TreeSet<Long> pages, long va, long length) {
    Long first = pages.ceiling(va);
    return first != null && first < va + length;
  }

  /** The pages that lie inside the VRAM of {@code pid} in {@code set}. */
  private static Map<Integer, NavigableMap<Long, Long>> mine(PluginImages set, long pid,
      Map<Integer, NavigableMap<Long, Long>> pages) {
    Map<Integer, NavigableMap<Long, Long>> out = new TreeMap<>();
    FoldedVram.forEachExtent(set, pid, (gpuId, va, length, base) -> {
      NavigableMap<Long, Long> all = pages.get(gpuId);
      if (all != null) {
        out.computeIfAbsent(gpuId, g -> new TreeMap<>())
            .putAll(all.subMap(va, true, va + length, false));
      }
    });
    return out;
  }
}

package dev.accr.engine;

import dev.accr.kernel.DirtyPages;
import dev.accr.kernel.SharedWrites;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Vma;
import dev.accr.api.MemoryView;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.ShmemEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which pages of each process of a tree an incremental set stores, and which runs it declares
 * replaced (the pagemap's zero runs: newer than anything the parents hold there). A process
 * whose writes were not tracked since the parent (forked since, or tracked since another set)
 * is stored in full. Shared memory is tracked once per object and stored by its owner's
 * mapping; when the parent stored it under another owner or address, the owner stores all of
 * it, and every other mapping of it declares its whole range replaced, so that a parent where
 * that mapping was the owner gives it nothing.
 */
final class IncrementalPages {
  private IncrementalPages() {}

  /** Ends the tree's tracking periods and begins one labelled {@code label}, together. */
  static Map<Integer, DirtyPages> track(List<SimProcess> processes, String label) {
    SharedWrites step = SharedWrites.step();
    Map<Integer, DirtyPages> out = new LinkedHashMap<>();
    for (SimProcess p : processes) {
      out.put(p.pid(), p.memory().trackWrites(label, step));
    }
    return out;
  }

  /** Gives every period back (the dump that ended them failed). */
  static void putBack(Map<Integer, DirtyPages> dirty) {
    dirty.values().forEach(DirtyPages::putBack);
  }

  /**
   * The pages of process {@code pid} written since {@code parent}, or null when they are not
   * known (every page is stored); {@code stored} says which mappings store their pages.
   */
  static DirtyPages since(ImageSet parent, int pid, DirtyPages dirty, List<Vma> vmas,
      Predicate<Vma> stored) {
    if (dirty == null || !parent.id().toString().equals(dirty.since())) {
      return null;
    }
    List<Vma> moved = new ArrayList<>();
    for (Vma vma : vmas) {
      if (vma.shared() != null && stored.test(vma) && !ownedInParent(parent, pid, vma)) {
        moved.add(vma);
      }
    }
    return dirty.countingWhole(moved);
  }

  private static boolean ownedInParent(ImageSet parent, int pid, Vma vma) {
    for (ShmemEntry s : parent.shared().shmem().values()) {
      if (s.getOwnerPid() == pid && s.getOwnerVaddr() == vma.start()
          && s.getLength() == vma.length()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The runs an incremental set declares replaced for a process's host mappings, as start, end
   * address pairs: one pair per written run, so no object per run (a dump with many isolated
   * written pages has as many runs, and they are only compared with the stored ones).
   */
  static long[] replacedRanges(List<Vma> vmas, DirtyPages written, Predicate<Vma> stored) {
    Pairs pairs = new Pairs();
    for (Vma vma : vmas) {
      if (vma.kind() == Vma.Kind.DEVICE) {
        continue;
      }
      if (written == null || !stored.test(vma)) {
        pairs.add(vma.start(), vma.end());
      } else {
        written.forEachWrittenRun(vma, (address, pages) ->
            pairs.add(address, address + pages * MemoryView.PAGE_SIZE));
      }
    }
    return pairs.toArray();
  }

  /**
   * The parts of the runs {@code replaced} that no chunk of {@code chunks} stores: a stored
   * page replaces its parent's by being stored, so the pagemap lists only the others (the
   * written pages that are zero now) as zero runs, not every written page twice.
   */
  static List<PageRun> unstored(List<PageRun> replaced, List<PageChunkEntry> chunks) {
    long[] ranges = new long[2 * replaced.size()];
    for (int i = 0; i < replaced.size(); i++) {
      ranges[2 * i] = replaced.get(i).getVaddr();
      ranges[2 * i + 1] = end(replaced.get(i));
    }
    return unstored(ranges, chunks);
  }

  /** {@link #unstored(List, List)} of runs given as start, end address pairs. */
  static List<PageRun> unstored(long[] replaced, List<PageChunkEntry> chunks) {
    if (replaced.length == 0) {
      return List.of();
    }
    int n = 0;
    for (PageChunkEntry c : chunks) {
      n += c.getRunsCount();
    }
    long[] stored = new long[2 * n]; // start, end pairs: disjoint, in address order
    int k = 0;
    for (PageChunkEntry c : chunks) {
      for (int r = 0; r < c.getRunsCount(); r++) {
        PageRun run = c.getRuns(r);
        stored[k++] = run.getVaddr();
        stored[k++] = end(run);
      }
    }
    sortPairs(stored);
    long[] sorted = replaced.clone();
    sortPairs(sorted);
    List<PageRun> out = new ArrayList<>();
    int j0 = 0;
    for (int r = 0; r < sorted.length; r += 2) {
      long at = sorted[r];
      long end = sorted[r + 1];
      while (j0 < n && stored[2 * j0 + 1] <= at) {
        j0++;
      }
      for (int j = j0; at < end; j++) {
        if (j >= n || stored[2 * j] >= end) {
          out.add(run(at, (end - at) / MemoryView.PAGE_SIZE));
          break;
        }
        if (stored[2 * j] > at) {
          out.add(run(at, (stored[2 * j] - at) / MemoryView.PAGE_SIZE));
        }
        at = Math.max(at, stored[2 * j + 1]);
      }
    }
    return out;
  }

  /** A growing array of start, end pairs. */
  private static final class Pairs {
    private long[] values = new long[64];
    private int size;

    void add(long start, long end) {
      if (size == values.length) {
        values = Arrays.copyOf(values, 2 * size);
      }
      values[size++] = start;
      values[size++] = end;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  /**
   * Sorts start, end pairs by start; chunks come in address order, so this is usually a
   * check.
   */
  private static void sortPairs(long[] pairs) {
    int n = pairs.length / 2;
    for (int i = 1; i < n; i++) {
      if (pairs[2 * i] < pairs[2 * i - 2]) {
        Integer[] order = new Integer[n];
        for (int j = 0; j < n; j++) {
          order[j] = j;
        }
        long[] copy = pairs.clone();
        Arrays.sort(order, Comparator.comparingLong(j -> copy[2 * j]));
        for (int j = 0; j < n; j++) {
          pairs[2 * j] = copy[2 * order[j]];
          pairs[2 * j + 1] = copy[2 * order[j] + 1];
        }
        return;
      }
    }
  }

  private static long end(PageRun r) {
    return r.getVaddr() + Integer.toUnsignedLong(r.getNrPages()) * MemoryView.PAGE_SIZE;
  }

  private static PageRun run(long address, long pages) {
    return PageRun.newBuilder().setVaddr(address).setNrPages(Math.toIntExact(pages)).build();
  }
}

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

  /** The runs an incremental set declares replaced for a process's host mappings. */
  static List<PageRun> replacedRuns(List<Vma> vmas, DirtyPages written, Predicate<Vma> stored) {
    List<PageRun> runs = new ArrayList<>();
    for (Vma vma : vmas) {
      if (vma.kind() == Vma.Kind.DEVICE) {
        continue;
      }
      if (written == null || !stored.test(vma)) {
        runs.add(run(vma.start(), vma.pageCount()));
      } else {
        written.forEachWrittenRun(vma, (address, pages) -> runs.add(run(address, pages)));
      }
    }
    return runs;
  }

  /**
   * The parts of the runs {@code replaced} that no chunk of {@code chunks} stores: a stored
   * page replaces its parent's by being stored, so the pagemap lists only the others (the
   * written pages that are zero now) as zero runs, not every written page twice.
   */
  static List<PageRun> unstored(List<PageRun> replaced, List<PageChunkEntry> chunks) {
    if (replaced.isEmpty()) {
      return replaced;
    }
    List<long[]> stored = new ArrayList<>(); // start, end: disjoint
    for (PageChunkEntry c : chunks) {
      for (PageRun r : c.getRunsList()) {
        stored.add(new long[] {r.getVaddr(), end(r)});
      }
    }
    stored.sort(Comparator.comparingLong(r -> r[0]));
    List<PageRun> sorted = new ArrayList<>(replaced);
    sorted.sort(Comparator.comparingLong(PageRun::getVaddr));
    List<PageRun> out = new ArrayList<>();
    int k = 0;
    for (PageRun r : sorted) {
      long at = r.getVaddr();
      long end = end(r);
      while (k < stored.size() && stored.get(k)[1] <= at) {
        k++;
      }
      for (int j = k; at < end; j++) {
        if (j >= stored.size() || stored.get(j)[0] >= end) {
          out.add(run(at, (end - at) / MemoryView.PAGE_SIZE));
          break;
        }
        if (stored.get(j)[0] > at) {
          out.add(run(at, (stored.get(j)[0] - at) / MemoryView.PAGE_SIZE));
        }
        at = Math.max(at, stored.get(j)[1]);
      }
    }
    return out;
  }

  private static long end(PageRun r) {
    return r.getVaddr() + Integer.toUnsignedLong(r.getNrPages()) * MemoryView.PAGE_SIZE;
  }

  private static PageRun run(long address, long pages) {
    return PageRun.newBuilder().setVaddr(address).setNrPages(Math.toIntExact(pages)).build();
  }
}

package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Vma;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host pages of one process of a lazily restored tree, split as CRIU's lazy pages split
 * them: the pages of its shared mappings (MAP_SHARED, memfd, shmem; stored once, by the
 * mapping that owns them) are loaded before the tree runs ({@link #loadShared}), since another
 * process may touch them first through its own mapping; the rest, its private memory, is what
 * the lazy restore loads on first touch ({@link #privatePages}). A unit of the source is loaded
 * once (a source node sends each once): a unit holding shared pages is loaded whole before the
 * tree runs, the private pages that share it included. A run of the source that spans several
 * mappings is cut at their bounds.
 */
final class SharedFirstPages {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  /** A piece of a run of the source: {@code part} is at {@code offset} bytes into the run. */
  private record Part(PageSource.Run part, long offset) {}

  /** A unit's runs, each cut into its private and its shared parts, by the run's address. */
  private record Cut(Map<Long, List<Part>> privateParts, Map<Long, List<Part>> sharedParts) {}

  private final PageSource source;
  private final AddressSpace memory;
  private final List<Cut> cuts = new ArrayList<>();

  SharedFirstPages(PageSource source, AddressSpace memory) {
    this.source = source;
    this.memory = memory;
    for (List<PageSource.Run> unit : source.units()) {
      Cut cut = new Cut(new HashMap<>(), new HashMap<>());
      for (PageSource.Run r : unit) {
        cutRun(r, cut);
      }
      cuts.add(cut);
    }
  }

  private void cutRun(PageSource.Run r, Cut cut) {
    long end = r.vaddr() + (long) r.pages() * PAGE;
    long at = r.vaddr();
    while (at < end) {
      Vma vma = memory.find(at);
      // A page outside every mapping is the loader's to refuse, as in a private run.
      long stop = vma == null ? end : Math.min(end, vma.start() + vma.length());
      boolean shared = vma != null && vma.shared() != null;
      PageSource.Run part = new PageSource.Run(at, (int) ((stop - at) / PAGE));
      (shared ? cut.sharedParts() : cut.privateParts())
          .computeIfAbsent(r.vaddr(), k -> new ArrayList<>())
          .add(new Part(part, at - r.vaddr()));
      at = stop;
    }
  }

  /**
   * Loads the pages of the process's shared mappings now, before anything runs; returns the
   * pages loaded. Throws what the source throws (a damaged chunk, a lost link).
   */
  long loadShared() throws IOException {
    long pages = 0;
    for (int u = 0; u < cuts.size(); u++) {
      Cut cut = cuts.get(u);
      if (cut.sharedParts().isEmpty()) {
        continue;
      }
      source.load(u, true, (run, data, offset) -> {
        for (Map<Long, List<Part>> parts : List.of(cut.sharedParts(), cut.privateParts())) {
          for (Part p : parts.getOrDefault(run.vaddr(), List.of())) {
            memory.writePages(p.part().vaddr(), data, offset + p.offset(), p.part().pages());
          }
        }
      });
      for (PageSource.Run r : source.units().get(u)) {
        pages += r.pages();
      }
    }
    return pages;
  }

  /**
   * The private pages of the process left to load lazily, by unit of the source (units with
   * none, or with shared pages, which {@link #loadShared} loads whole, left out).
   */
  PageSource privatePages() {
    List<Integer> sourceUnits = new ArrayList<>();
    List<List<PageSource.Run>> units = new ArrayList<>();
    for (int u = 0; u < cuts.size(); u++) {
      if (!cuts.get(u).sharedParts().isEmpty()) {
        continue;
      }
      List<PageSource.Run> runs = new ArrayList<>();
      cuts.get(u).privateParts().values().forEach(parts -> parts.forEach(p -> runs.add(p.part())));
      if (!runs.isEmpty()) {
        runs.sort(java.util.Comparator.comparingLong(PageSource.Run::vaddr));
        sourceUnits.add(u);
        units.add(runs);
      }
    }
    return new PageSource() {
      @Override
      public List<List<Run>> units() {
        return units;
      }

      @Override
      public void load(int unit, RunSink sink) throws IOException {
        load(unit, false, sink);
      }

      @Override
      public void load(int unit, boolean byFault, RunSink sink) throws IOException {
        Map<Long, List<Part>> parts = cuts.get(sourceUnits.get(unit)).privateParts();
        source.load(sourceUnits.get(unit), byFault, (run, data, offset) -> {
          for (Part p : parts.getOrDefault(run.vaddr(), List.of())) {
            sink.accept(p.part(), data, offset + p.offset());
          }
        });
      }

      @Override
      public String describe() {
        return source.describe();
      }

      @Override
      public void close() {
        source.close();
      }
    };
  }
}

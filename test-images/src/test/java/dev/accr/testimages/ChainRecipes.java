package dev.accr.testimages;

import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.kernel.SimProcess;
import java.util.List;

/**
 * Incremental chains the generator writes for each format version: a full dump that leaves
 * the process running, then links whose parent is the link before, the last one a dump. A
 * chain is kept as one folder {@code <name>/} holding its links {@code link-1/ … link-N/}
 * (each names its parent as {@code ../link-<N-1>}), so that a reader that breaks a chain
 * fails the build as a reader that breaks a full set does.
 */
final class ChainRecipes {
  private static final long PAGE = MemoryView.PAGE_SIZE;
  /** Where the counter chain's edits map their pages: away from the workload's mappings. */
  static final long SCRATCH = 0x5000_0000L;
  static final int SCRATCH_PAGES = 16;
  /** The first page of the scratch mapping's tail, which the chain unmaps and maps again. */
  static final int TAIL = 12;

  /** How a link is written. */
  enum Kind { FULL_DUMP, PRE_DUMP, DUMP }

  /**
   * What the generator does to the process right before a link is taken, in the uninterrupted
   * run of the digest as well (so that the digest is that of a run with the same edits).
   */
  interface Edit {
    void apply(SimProcess p);
  }

  /** A link taken once the process has run {@code after} steps in all, after {@code edit}. */
  record Link(int after, Kind kind, Edit edit) {}

  /**
   * One run of {@code workload} on a node of {@code topology} dumped as a chain of {@code
   * links}; when {@code writesFile} the workload also gets {@code --out FILE}.
   */
  record ChainRecipe(String name, String workload, String topology, List<String> args,
      boolean writesFile, List<Link> links, String compression) {

    ChainRecipe {
      links = List.copyOf(links);
      if (links.size() < 2 || links.getFirst().kind() != Kind.FULL_DUMP
          || links.getLast().kind() != Kind.DUMP) {
        throw new IllegalArgumentException(name + ": a chain is a full dump, links, a dump");
      }
    }
  }

  private static final Edit NONE = p -> { };

  /** Two scratch mappings (pages 0 to 11, 12 to 15) whose every page holds its number plus 1. */
  private static final Edit MAP_SCRATCH = p -> {
    p.memory().mapAnonymous(SCRATCH, TAIL * PAGE, Prot.RW, "scratch");
    p.memory().mapAnonymous(SCRATCH + TAIL * PAGE, (SCRATCH_PAGES - TAIL) * PAGE, Prot.RW,
        "scratch-tail");
    for (int i = 0; i < SCRATCH_PAGES; i++) {
      p.memory().writeLong(SCRATCH + i * PAGE, i + 1);
    }
  };

  /** Page 3 becomes zero, the tail is unmapped: the next link records both. */
  private static final Edit ZERO_AND_UNMAP = p -> {
    p.memory().writeLong(SCRATCH + 3 * PAGE, 0);
    p.memory().unmap(SCRATCH + TAIL * PAGE, (SCRATCH_PAGES - TAIL) * PAGE);
  };

  /** The tail mapped anew, one page written: the parents' pages there must not show through. */
  private static final Edit REMAP = p -> {
    p.memory().mapAnonymous(SCRATCH + TAIL * PAGE, (SCRATCH_PAGES - TAIL) * PAGE, Prot.RW,
        "scratch-again");
    p.memory().writeLong(SCRATCH + (TAIL + 1) * PAGE, 99);
  };

  static final List<ChainRecipe> ALL = List.of(
      new ChainRecipe("counter-chain", "counter", "cpu-only", List.of("--mem-mib", "1",
          "--steps", "30", "--seed", "2026", "--pages-per-step", "4"), true, List.of(
              new Link(6, Kind.FULL_DUMP, MAP_SCRATCH),
              new Link(12, Kind.PRE_DUMP, ZERO_AND_UNMAP),
              new Link(18, Kind.DUMP, REMAP)), "zstd:3"),
      // One request at a time: its KV segment (a VRAM buffer) is allocated, freed when the
      // request ends after step 8 (so link 2 has none: its pages are unmapped), and allocated
      // again for the next request after step 11 (a new buffer where the old one was).
      new ChainRecipe("kfd-serve-chain", "kfd-serve", "mi100x2", List.of("--gpus", "1",
          "--weights-mib", "1", "--kv-mib", "2", "--requests", "1", "--steps", "16", "--seed",
          "2031", "--gpu-us-per-wg", "20"), false, List.of(
              new Link(3, Kind.FULL_DUMP, NONE),
              new Link(10, Kind.PRE_DUMP, NONE),
              new Link(12, Kind.DUMP, NONE)), "zstd:3"));

  private ChainRecipes() {}
}

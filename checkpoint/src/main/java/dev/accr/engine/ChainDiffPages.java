package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.api.PageDigests;
import dev.accr.image.ChunkAt;
import dev.accr.image.ImageKind;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.VmaEntry;
import dev.accr.proto.VmaKind;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Host pages of one process as two chains hold them, for {@code accr diff}: what {@link
 * PageHashes#host(ImageChain, int)} gives for each, found faster when the chains share a link.
 * Only the pages that the links after the shared one wrote (stored or declared zero, on either
 * side) can differ: those are read, at each side's newest link that holds them, and digested;
 * every other page, present or not as the shared link's chain has it, gets one placeholder on
 * both sides (the same page). Comparisons then count what reading every page would.
 */
public final class ChainDiffPages {
  private static final long PAGE = MemoryView.PAGE_SIZE;
  /** The value of a page both sides hold unchanged. */
  private static final long SAME = 0;

  /** Page values by address, of each side. */
  public record Pair(NavigableMap<Long, Long> from, NavigableMap<Long, Long> to) {}

  private ChainDiffPages() {}

  /** The pages of both chains: from their written pages when they share a link. */
  public static Pair of(ImageChain from, ImageChain to, int pid) throws IOException {
    Pair fast = fast(from, to, pid);
    return fast != null ? fast
        : new Pair(PageHashes.host(from, pid), PageHashes.host(to, pid));
  }

  /** From the links' records; null when the chains share no link. */
  static Pair fast(ImageChain from, ImageChain to, int pid) throws IOException {
    List<ImageSet> a = from.links();
    List<ImageSet> b = to.links();
    int sharedInB = -1;
    for (int i = 0; i < b.size() && sharedInB < 0; i++) {
      ImageSet candidate = b.get(i);
      if (a.stream().anyMatch(l -> l.id().equals(candidate.id()))) {
        sharedInB = i;
      }
    }
    if (sharedInB < 0) {
      return null;
    }
    int sharedInA = 0;
    while (!a.get(sharedInA).id().equals(b.get(sharedInB).id())) {
      sharedInA++;
    }
    TreeSet<Long> changed = new TreeSet<>();
    for (ImageSet link : a.subList(0, sharedInA)) {
      written(link, pid, changed);
    }
    for (ImageSet link : b.subList(0, sharedInB)) {
      written(link, pid, changed);
    }
    NavigableMap<Long, Long> unchanged = fold(b.subList(sharedInB, b.size()), pid, null);
    unchanged.keySet().removeAll(changed);
    return new Pair(mapped(from, pid, unchanged, fold(a, pid, changed)),
        mapped(to, pid, unchanged, fold(b, pid, changed)));
  }

  /** The pages a link stores or declares zero. */
  private static void written(ImageSet link, int pid, Set<Long> into) {
    ImageSet.ProcessImages p = link.processes().get(pid);
    if (p == null) { // forked since that link
      return;
    }
    for (PageChunkEntry c : p.chunks()) {
      for (PageRun r : c.getRunsList()) {
        addPages(r, into);
      }
    }
    for (PageRun r : p.zeroRuns()) {
      addPages(r, into);
    }
  }

  private static void addPages(PageRun r, Set<Long> into) {
    for (long i = 0; i < Integer.toUnsignedLong(r.getNrPages()); i++) {
      into.add(r.getVaddr() + i * PAGE);
    }
  }

  /**
   * The pages of the chain {@code links} (newest first), each from the newest link that wrote
   * it: those in {@code only} digested, or, with null, all of them as {@link #SAME} unread.
   */
  private static NavigableMap<Long, Long> fold(List<ImageSet> links, int pid, TreeSet<Long> only)
      throws IOException {
    NavigableMap<Long, Long> out = new TreeMap<>();
    Set<Long> decided = new HashSet<>();
    for (ImageSet link : links) {
      ImageSet.ProcessImages p = link.processes().get(pid);
      if (p == null) { // forked since this link: older links do not hold it either
        break;
      }
      Map<Integer, ChunkAt> files = new HashMap<>();
      try {
        for (PageChunkEntry c : p.chunks()) {
          List<long[]> take = new ArrayList<>(); // address, index in the chunk
          long index = 0;
          for (PageRun r : c.getRunsList()) {
            long n = Integer.toUnsignedLong(r.getNrPages());
            long end = r.getVaddr() + n * PAGE;
            Long first = only == null ? null : only.ceiling(r.getVaddr());
            if (only == null || (first != null && first < end)) {
              for (long i = 0; i < n; i++) {
                long page = r.getVaddr() + i * PAGE;
                if ((only == null || only.contains(page)) && !decided.contains(page)
                    && !out.containsKey(page)) {
                  take.add(new long[] {page, index + i});
                }
              }
            }
            index += n;
          }
          if (take.isEmpty()) {
            continue;
          }
          if (only == null) {
            take.forEach(t -> out.put(t[0], SAME));
            continue;
          }
          ChunkAt file = files.get(c.getPagesFile());
          if (file == null) {
            file = ChunkAt.open(link.dir().resolve(ImageKind.PAGES.fileName(c.getPagesFile())),
                link.id());
            files.put(c.getPagesFile(), file);
          }
          MemorySegment data = file.read(c.getFileOffset(), (int) (index * PAGE),
              c.getStoredLength());
          for (long[] t : take) {
            out.put(t[0], PageDigests.digest(data.asSlice(t[1] * PAGE, PAGE)));
          }
        }
      } finally {
        for (ChunkAt f : files.values()) {
          f.close();
        }
      }
      if (!link.hasParent()) {
        break; // a full link: every page is decided
      }
      written(link, pid, decided);
    }
    return out;
  }

  /** Unchanged and changed pages, of those the chain's last link maps as host memory. */
  private static NavigableMap<Long, Long> mapped(ImageChain chain, int pid,
      NavigableMap<Long, Long> unchanged, NavigableMap<Long, Long> changed) {
    NavigableMap<Long, Long> out = new TreeMap<>();
    for (VmaEntry v : chain.last().processes().get(pid).mm().getVmasList()) {
      if (v.getKind() != VmaKind.VMA_DEVICE) {
        long end = v.getStart() + v.getLength();
        out.putAll(unchanged.subMap(v.getStart(), true, end, false));
        out.putAll(changed.subMap(v.getStart(), true, end, false));
      }
    }
    return out;
  }
}

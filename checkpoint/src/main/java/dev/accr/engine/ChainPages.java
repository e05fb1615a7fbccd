package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.VmaEntry;
import dev.accr.proto.VmaKind;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Which stored pages of each link of a chain are the process's pages: those of a link that no
 * newer link stores or declares zero, inside a host mapping of the newest link. Restore writes
 * exactly those, so every page is written once, whatever the length of the chain.
 */
final class ChainPages {
  private static final long PAGE = MemoryView.PAGE_SIZE;

  /** Per link (newest first), the addresses its pages may not fill. */
  private final List<AddressRanges> masks;

  ChainPages(ImageChain chain, int pid) {
    masks = new ArrayList<>();
    AddressRanges mask = outsideHostMappings(chain.last().processes().get(pid).mm());
    for (ImageSet link : chain.links()) {
      masks.add(mask.copy());
      ImageSet.ProcessImages p = link.processes().get(pid);
      if (p == null) {
        continue; // forked since that link: a newer link stores all of it
      }
      for (PageChunkEntry c : p.chunks()) {
        for (PageRun r : c.getRunsList()) {
          mask.add(r.getVaddr(), end(r));
        }
      }
      for (PageRun r : p.zeroRuns()) {
        mask.add(r.getVaddr(), end(r));
      }
    }
  }

  private static long end(PageRun r) {
    return r.getVaddr() + Integer.toUnsignedLong(r.getNrPages()) * PAGE;
  }

  private static AddressRanges outsideHostMappings(MmEntry mm) {
    AddressRanges outside = new AddressRanges();
    long at = 0;
    for (VmaEntry v : mm.getVmasList()) {
      if (v.getKind() == VmaKind.VMA_DEVICE) {
        continue;
      }
      outside.add(at, v.getStart());
      at = v.getStart() + v.getLength();
    }
    outside.add(at, Long.MAX_VALUE);
    return outside;
  }

  /** The sink for the pages of link {@code index}: it passes on only that link's own pages. */
  PageLoader.PageSink filter(int index, PageLoader.PageSink sink) {
    AddressRanges mask = masks.get(index);
    return new PageLoader.PageSink() {
      @Override
      public void write(int pid, long vaddr, MemorySegment source, long offset, int pages) {
        mask.forEachGap(vaddr, vaddr + pages * PAGE,
            (start, end) -> sink.write(pid, start, source, offset + (start - vaddr),
                (int) ((end - start) / PAGE)));
      }

      /** Fresh frames only for a run that no newer link replaces in part. */
      @Override
      public MemorySegment fresh(int pid, long vaddr, int pages) {
        long end = vaddr + pages * PAGE;
        boolean[] whole = {false};
        mask.forEachGap(vaddr, end, (start, stop) -> whole[0] |= start == vaddr && stop == end);
        return whole[0] ? sink.fresh(pid, vaddr, pages) : null;
      }
    };
  }

  /**
   * Where the pages of link {@code index} are the process's, as start, end pairs in address
   * order: inside the newest link's host mappings, where no newer link stores or replaces
   * them. A stage of the links from {@code index} on gives its pages there.
   */
  long[] ownRanges(int index) {
    List<Long> pairs = new ArrayList<>();
    masks.get(index).forEachGap(0, dev.accr.kernel.AddressSpace.MAX_ADDRESS, (start, end) -> {
      pairs.add(start);
      pairs.add(end);
    });
    return pairs.stream().mapToLong(Long::longValue).toArray();
  }

  /** Pages the chain restores. */
  long livePages(ImageChain chain, int pid) {
    long[] pages = {0};
    for (int i = 0; i < chain.links().size(); i++) {
      AddressRanges mask = masks.get(i);
      ImageSet.ProcessImages p = chain.links().get(i).processes().get(pid);
      for (PageChunkEntry c : p == null ? List.<PageChunkEntry>of() : p.chunks()) {
        for (PageRun r : c.getRunsList()) {
          mask.forEachGap(r.getVaddr(), end(r), (start, end) -> pages[0] += (end - start) / PAGE);
        }
      }
    }
    return pages[0];
  }
}

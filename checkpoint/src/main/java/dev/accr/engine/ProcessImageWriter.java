package dev.accr.engine;

import com.google.protobuf.MessageLite;
import dev.accr.api.MemoryView;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.DirtyPages;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Vma;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.PagemapHead;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Writes one process's own images of a dump (pagemap, core, mm, and its pages files), and
 * the set's statistics; a part of {@link Dumper}.
 */
final class ProcessImageWriter {
  private final Node node;
  /** Post-copy: memory stays with the stopped process, served from here; null otherwise. */
  private final ServedMemory served;
  private final Cancellation cancellation;

  ProcessImageWriter(Node node, ServedMemory served, Cancellation cancellation) {
    this.node = node;
    this.served = served;
    this.cancellation = cancellation;
  }

  /**
   * Writes the process's own images (pagemap, core, mm; its pages files numbered from
   * {@code firstPagesFile}); with a parent, only the pages written since ({@link
   * IncrementalPages}), and the replaced runs it does not store as zero runs.
   */
  DumpStatsEntry.Builder write(SimProcess process, ImageSetWriter set,
      DumpOptions options, ProgressListener progress, ProcessCollector.Collected c,
      List<Vma> vmas, DirtyPages dirty, ImageSet parentSet, PhaseClock clock, boolean running,
      int firstPagesFile, Predicate<Vma> stored) throws IOException {
    int pid = process.pid();
    PageSelection selection = PageSelection.ALL_TOUCHED;
    long[] replaced = {};
    if (parentSet != null) {
      DirtyPages written = IncrementalPages.since(parentSet, pid, dirty, vmas, stored);
      replaced = IncrementalPages.replacedRanges(vmas, written, stored);
      if (written != null) {
        selection = PageSelection.written(written);
      }
    }
    selection = selection.of(vmas); // a pre-dump writes while the process maps anew
    long memStart = System.nanoTime();
    if (served != null) {
      // Post-copy: the pages stay here and are served; the pagemap holds none. A probe
      // (running) serves nothing.
      if (!running) {
        served.host(process, vmas, stored);
      }
      write(set, ImageKind.PAGEMAP.fileName(pid), ImageKind.PAGEMAP, List.of(PagemapHead
          .newBuilder().setPid(pid).setPageSize(MemoryView.PAGE_SIZE).build()));
      write(set, ImageKind.CORE.fileName(pid), ImageKind.CORE, List.of(c.core()));
      write(set, ImageKind.MM.fileName(pid), ImageKind.MM, List.of(c.mm()));
      return DumpStatsEntry.newBuilder().setCompression(options.compression().toString())
          .setIncremental(false);
    }
    PageDumper.Result pages = new PageDumper(options, set.id(),
        set.sink(), progress, node.buffers(),
        cancellation::requested).selecting(selection).whileRunning(running)
        .numberedFrom(firstPagesFile).storing(stored).dump(process.memory());
    long memUs = (System.nanoTime() - memStart) / 1000;
    clock.begin("write");

    List<MessageLite> pagemap = new ArrayList<>();
    pagemap.add(PagemapHead.newBuilder().setPid(pid).setPageSize(MemoryView.PAGE_SIZE)
        .addAllZeroRuns(IncrementalPages.unstored(replaced, pages.chunks())).build());
    pagemap.addAll(pages.chunks());
    write(set, ImageKind.PAGEMAP.fileName(pid), ImageKind.PAGEMAP, pagemap);
    write(set, ImageKind.CORE.fileName(pid), ImageKind.CORE, List.of(c.core()));
    write(set, ImageKind.MM.fileName(pid), ImageKind.MM, List.of(c.mm()));

    long written = pages.pagesScanned() - pages.zeroPages();
    return DumpStatsEntry.newBuilder().setMemdumpTimeUs(memUs)
        .setPagesScanned(pages.pagesScanned()).setPagesSkippedZero(pages.zeroPages())
        .setPagesWritten(written).setBytesRead(pages.pagesScanned() * MemoryView.PAGE_SIZE)
        .setBytesWritten(pages.bytesWritten()).setCompression(options.compression().toString())
        .setThreads(pages.pagesFiles()).setIncremental(parentSet != null);
  }

  static void writeStats(ImageSetWriter set, DumpStatsEntry.Builder stats)
      throws IOException {
    EntryImageCodec.write(set.sink(), ImageKind.STATS_DUMP.fileName(), ImageKind.STATS_DUMP,
        set.id(), List.of(stats.build()));
  }

  private static void write(ImageSetWriter set, String name, ImageKind kind,
      List<? extends MessageLite> entries) throws IOException {
    EntryImageCodec.write(set.sink(), name, kind, set.id(), entries);
  }
}

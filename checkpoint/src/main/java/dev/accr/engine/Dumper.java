package dev.accr.engine;

import com.google.protobuf.MessageLite;
import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.MemoryView;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.plugin.SessionSetup;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.PagemapHead;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Dumps a process: pause its devices, freeze, save device state, collect, write the image set,
 * then kill the process, let it run on, or leave it stopped (plugins are told it survives, so
 * its devices are left as they were) until a thaw or a kill. If anything fails, plugins roll back (devices run
 * again), the process is thawed exactly as it was and no image set appears.
 */
public final class Dumper {
  private final Node node;
  private final PluginHost plugins;
  private final Cancellation cancellation;

  public Dumper(Node node, PluginHost plugins) {
    this(node, plugins, Cancellation.NONE);
  }

  private Dumper(Node node, PluginHost plugins, Cancellation cancellation) {
    this.node = node;
    this.plugins = plugins;
    this.cancellation = cancellation;
  }

  /** This dumper, stopping (through the failure path) when {@code c} says so. */
  public Dumper cancelledBy(Cancellation c) {
    return new Dumper(node, plugins, c);
  }

  /** Dumps process {@code pid} into directory {@code dir}; returns the statistics. */
  public DumpStatsEntry dump(int pid, Path dir, DumpOptions options, ProgressListener reports)
      throws IOException {
    ProgressListener progress = cancellation.checking(reports);
    SimProcess process = node.process(pid);
    long start = System.nanoTime();
    try (ImageSetWriter set = ImageSetWriter.create(dir)) {
      boolean ok = false;
      boolean frozen = false;
      try {
        // As in CRIU: plugins finish (and roll back on failure) when the session closes,
        // before the process runs again.
        try (PluginSession session = plugins.begin(AccrPlugin.Stage.DUMP,
            SessionSetup.of(node, set.directory(), set.id())
                .withCompression(options.compression()).withParallelism(options.threads())
                .withOptions(options.pluginOptions()).withLeaveRunning(options.leaveRunning() || options.leaveStopped())
                .withProgress(progress))) {
          session.pauseDevices(process);
          process.freeze();
          frozen = true;
          long frozenAt = System.nanoTime();
          session.checkpointDevices(process);
          cancellation.check();
          DumpStatsEntry.Builder stats = writeImages(process, set, options, progress, session);
          session.dumpDevicesLate();
          long frozenUs = (System.nanoTime() - frozenAt) / 1000;
          stats.setFrozenTimeUs(frozenUs).setTotalTimeUs((System.nanoTime() - start) / 1000);
          EntryImageCodec.write(set.file(ImageKind.STATS_DUMP.fileName()), ImageKind.STATS_DUMP,
              set.id(), List.of(stats.build()));
          cancellation.check(); // the last moment: after the commit the dump has happened
          set.commit(InventoryEntry.newBuilder().setToolVersion(Version.get())
              .setRootPid(pid).setSourceTopology(node.topology()).setSourceNode(node.name())
              .setDumpTimeEpochMs(System.currentTimeMillis()).addAllPlugins(session.used()));
          session.succeeded();
          ok = true;
          return stats.build();
        }
      } finally {
        // The process is thawed or killed whatever a plugin does.
        if (frozen && ok && options.leaveStopped()) {
          process.stayStopped();
        } else if (frozen && ok && !options.leaveRunning()) {
          process.killFrozen();
          node.reap(process);
        } else if (frozen) {
          process.thaw();
        }
      }
    } catch (AccrException e) {
      throw e;
    } catch (IOException e) {
      throw AccrException.failed("dump of %d into %s failed: %s", pid, dir, e.getMessage());
    }
  }

  private DumpStatsEntry.Builder writeImages(SimProcess process, ImageSetWriter set,
      DumpOptions options, ProgressListener progress, PluginSession session) throws IOException {
    int pid = process.pid();
    ProcessCollector.Collected c = ProcessCollector.collect(process, 1, session);
    long memStart = System.nanoTime();
    PageDumper.Result pages = new PageDumper(options, set.id(),
        n -> set.file(ImageKind.PAGES.fileName(n)), progress).dump(process.memory());
    long memUs = (System.nanoTime() - memStart) / 1000;

    List<MessageLite> pagemap = new ArrayList<>();
    pagemap.add(PagemapHead.newBuilder().setPid(pid).setPageSize(MemoryView.PAGE_SIZE).build());
    pagemap.addAll(pages.chunks());
    write(set, ImageKind.PAGEMAP.fileName(pid), ImageKind.PAGEMAP, pagemap);
    write(set, ImageKind.CORE.fileName(pid), ImageKind.CORE, List.of(c.core()));
    write(set, ImageKind.MM.fileName(pid), ImageKind.MM, List.of(c.mm()));
    write(set, ImageKind.PSTREE.fileName(), ImageKind.PSTREE, List.of(c.pstree()));
    write(set, ImageKind.FILES.fileName(), ImageKind.FILES, c.files());

    long written = pages.pagesScanned() - pages.zeroPages();
    return DumpStatsEntry.newBuilder().setMemdumpTimeUs(memUs)
        .setPagesScanned(pages.pagesScanned()).setPagesSkippedZero(pages.zeroPages())
        .setPagesWritten(written).setBytesRead(pages.pagesScanned() * MemoryView.PAGE_SIZE)
        .setBytesWritten(pages.bytesWritten()).setCompression(options.compression().toString())
        .setThreads(pages.pagesFiles());
  }

  private static void write(ImageSetWriter set, String name, ImageKind kind,
      List<? extends MessageLite> entries) throws IOException {
    EntryImageCodec.write(set.file(name), kind, set.id(), entries);
  }
}

package dev.accr.cli;

import dev.accr.api.AccrPlugin;
import dev.accr.api.MemoryView;
import dev.accr.engine.ImageChain;
import dev.accr.engine.ImageSet;
import dev.accr.proto.ChainLink;
import dev.accr.proto.ImageFileRef;
import dev.accr.image.ImageKind;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.ImageFileSummary;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.OpenFileSummary;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.ThreadSummary;
import dev.accr.proto.VmaEntry;
import dev.accr.proto.VmaSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code accr inspect} says about an image set: the process tree, threads, memory maps
 * with what was stored of each VMA, open files, what each installed plugin says about its
 * files, and the dump statistics. The set's metadata is read and cross-checked as for a
 * restore.
 */
final class SetSummaries {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  /** The summary, and the plugins' reports it holds (their tables for text and HTML). */
  record Inspection(SetSummary summary, List<PluginReports.Named> reports) {}

  private SetSummaries() {}

  static Inspection of(Path dir, List<AccrPlugin> plugins) throws IOException {
    ImageChain chain = ImageChain.read(dir);
    ImageSet set = chain.last();
    InventoryEntry inv = set.inventory();
    SetSummary.Builder s = SetSummary.newBuilder().setCheckpointId(set.id().toString())
        .setFormatVersion(inv.getFormatVersion()).setToolVersion(inv.getToolVersion())
        .setRootPid(inv.getRootPid()).setSourceNode(inv.getSourceNode())
        .setDumpTimeEpochMs(inv.getDumpTimeEpochMs()).addAllPlugins(inv.getPluginsList())
        .setTopology(inv.getSourceTopology());
    for (ImageSet.ProcessImages p : new TreeMap<>(set.processes()).values()) {
      s.addProcesses(process(p));
      for (FdEntry fd : p.core().getFdsList()) {
        s.addFiles(file(p.core().getPid(), fd, set.files().get(fd.getFileId())));
      }
    }
    s.addAllShared(SharedSummaries.of(set));
    List<PluginReports.Named> reports = PluginReports.summarize(plugins, dir, set.id());
    s.addAllReports(PluginReports.toProto(reports));
    for (String used : inv.getPluginsList()) {
      if (plugins.stream().noneMatch(p -> p.name().equals(used))) {
        s.addPluginsNotInstalled(used);
      }
    }
    for (PluginReports.Named r : reports) {
      s.setDeviceBytes(s.getDeviceBytes() + r.report().deviceBytes())
          .setDeviceStoredBytes(s.getDeviceStoredBytes() + r.report().deviceStoredBytes());
    }
    if (chain.incremental()) {
      for (ImageSet link : chain.links()) {
        s.addChain(link(link));
      }
    }
    DumpStatsEntry stats = set.stats();
    if (stats != null) {
      s.setStats(stats);
      if (stats.getMemdumpTimeUs() > 0) {
        s.setMemdumpMbPerS(round(stats.getBytesRead() / (double) stats.getMemdumpTimeUs()));
      }
      if (stats.getBytesWritten() > 0) {
        s.setCompressionRatio(round(stats.getBytesRead() / (double) stats.getBytesWritten()));
      }
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        ImageKind kind = ImageKind.ofFileName(f.getFileName().toString());
        if (kind != null) {
          s.addImageFiles(ImageFileSummary.newBuilder().setName(f.getFileName().toString())
              .setKind(kind.formatName()).setSize(Files.size(f)));
        }
      }
    }
    return new Inspection(s.build(), reports);
  }

  private static ChainLink link(ImageSet link) {
    long bytes = link.inventory().getFilesList().stream().mapToLong(ImageFileRef::getSize).sum();
    long pages = link.processes().values().stream().flatMap(p -> p.chunks().stream())
        .flatMap(c -> c.getRunsList().stream()).mapToLong(PageRun::getNrPages).sum();
    return ChainLink.newBuilder().setDir(link.dir().toString())
        .setCheckpointId(link.id().toString()).setParentPath(link.inventory().getParentPath())
        .setPreDump(link.inventory().getPreDump()).setStoredBytes(bytes).setStoredPages(pages)
        .build();
  }

  static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }

  private static ProcessSummary process(ImageSet.ProcessImages p) {
    CoreEntry core = p.core();
    ProcessSummary.Builder out = ProcessSummary.newBuilder().setPid(core.getPid())
        .setPpid(p.pstree().getPpid()).setExe(core.getExe()).addAllArgv(core.getArgvList())
        .setPgid(p.pstree().getPgid()).setSid(p.pstree().getSid())
        .setZombie(p.pstree().getZombie()).setExitStatus(p.pstree().getExitStatus())
        .setPendingSignals(p.pstree().getPendingSignals())
        .setStoredPages(p.chunks().stream().flatMap(c -> c.getRunsList().stream())
            .mapToLong(PageRun::getNrPages).sum());
    if (p.pstree().getZombie()) {
      out.setPid(p.pstree().getPid());
    }
    for (ThreadCoreEntry t : core.getThreadsList()) {
      out.addThreads(ThreadSummary.newBuilder().setTid(t.getTid()).setPc(t.getPc()));
    }
    List<VmaEntry> vmas = p.mm().getVmasList();
    long[] resident = new long[vmas.size()];
    double[] stored = new double[vmas.size()];
    for (PageChunkEntry chunk : p.chunks()) {
      long pages = chunk.getRunsList().stream().mapToLong(PageRun::getNrPages).sum();
      double perPage = chunk.getStoredLength() / (double) Math.max(1, pages);
      for (PageRun run : chunk.getRunsList()) {
        for (int i = 0; i < vmas.size(); i++) {
          VmaEntry v = vmas.get(i);
          long from = Math.max(v.getStart(), run.getVaddr());
          long to = Math.min(v.getStart() + v.getLength(),
              run.getVaddr() + (long) run.getNrPages() * PAGE);
          if (to > from) {
            resident[i] += (to - from) / PAGE;
            stored[i] += (to - from) / PAGE * perPage;
          }
        }
      }
    }
    for (int i = 0; i < vmas.size(); i++) {
      VmaEntry v = vmas.get(i);
      VmaSummary.Builder vma = VmaSummary.newBuilder().setStart(v.getStart())
          .setEnd(v.getStart() + v.getLength()).setProt(prot(v.getProt()))
          .setKind(v.getKind().name().replace("VMA_", "").toLowerCase()).setName(v.getName())
          .setPath(v.getPath()).setPages(v.getLength() / PAGE).setResidentPages(resident[i])
          .setStoredBytes(Math.round(stored[i]));
      if (v.hasTouchedPages()) {
        vma.setZeroPages(Math.max(0, v.getTouchedPages() - resident[i]));
      }
      out.addVmas(vma);
    }
    return out.build();
  }

  private static OpenFileSummary file(int pid, FdEntry fd, FileEntry f) {
    OpenFileSummary.Builder out = OpenFileSummary.newBuilder().setPid(pid).setFd(fd.getFd())
        .setFileId(fd.getFileId());
    if (f.hasReg()) {
      out.setType("reg").setPath(f.getReg().getPath()).setPos(f.getReg().getPos())
          .setSize(f.getReg().getSize());
    } else {
      out.setType(f.getExt().getPlugin()).setPath(f.getExt().getPath());
    }
    return out.build();
  }

  static String prot(int prot) {
    return ((prot & 1) != 0 ? "r" : "-") + ((prot & 2) != 0 ? "w" : "-")
        + ((prot & 4) != 0 ? "x" : "-");
  }
}

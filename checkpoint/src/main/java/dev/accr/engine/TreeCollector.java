package dev.accr.engine;

import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.PstreeEntry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the non-memory state of a frozen tree into image entries: each process's own entries,
 * and what the tree shares, written once: pstree.img with every process, files.img with every
 * open file of the tree.
 */
final class TreeCollector {
  /** The entries of a tree. */
  record Collected(Map<Integer, ProcessCollector.Collected> processes, List<PstreeEntry> pstree,
      List<FileEntry> files) {
    ProcessCollector.Collected of(int pid) {
      return processes.get(pid);
    }

    /** Writes the files of the set that describe the whole tree. */
    void writeShared(ImageSetWriter set) throws IOException {
      EntryImageCodec.write(set.file(ImageKind.PSTREE.fileName()), ImageKind.PSTREE, set.id(),
          pstree);
      EntryImageCodec.write(set.file(ImageKind.FILES.fileName()), ImageKind.FILES, set.id(),
          files);
    }
  }

  private TreeCollector() {}

  /** The entries of the frozen {@code processes} (the root first). */
  static Collected collect(Node node, List<SimProcess> processes, PluginSession session) {
    Map<Integer, ProcessCollector.Collected> each = new LinkedHashMap<>();
    List<PstreeEntry> pstree = new ArrayList<>();
    List<FileEntry> files = new ArrayList<>();
    int nextFileId = 1;
    for (SimProcess p : processes) {
      ProcessCollector.Collected c = ProcessCollector.collect(p, nextFileId, session);
      each.put(p.pid(), c);
      pstree.add(c.pstree());
      files.addAll(c.files());
      nextFileId += c.files().size();
    }
    return new Collected(each, List.copyOf(pstree), List.copyOf(files));
  }

  /** The statistics of two processes' images as those of one dump. */
  static DumpStatsEntry.Builder add(DumpStatsEntry.Builder a, DumpStatsEntry.Builder b) {
    return a.setMemdumpTimeUs(a.getMemdumpTimeUs() + b.getMemdumpTimeUs())
        .setPagesScanned(a.getPagesScanned() + b.getPagesScanned())
        .setPagesSkippedZero(a.getPagesSkippedZero() + b.getPagesSkippedZero())
        .setPagesWritten(a.getPagesWritten() + b.getPagesWritten())
        .setBytesRead(a.getBytesRead() + b.getBytesRead())
        .setBytesWritten(a.getBytesWritten() + b.getBytesWritten())
        .setThreads(a.getThreads() + b.getThreads());
  }
}

package dev.accr.engine;

import dev.accr.api.MemoryView;
import dev.accr.image.ByteCounts;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpStatsEntryOrBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The bytes a dump or restore moved, per source: host memory first, then each plugin. */
final class BytesMoved {
  /** The source name of host memory. */
  static final String MEMORY = "memory";

  private BytesMoved() {}

  /** What a dump moved: the host memory {@code stats} counts, and every plugin's bulk data. */
  static List<BytesMovedEntry> dumped(DumpStatsEntryOrBuilder stats, PluginSession session) {
    long read = stats.getPagesScanned() * MemoryView.PAGE_SIZE;
    long skipped = stats.getPagesSkippedZero() * MemoryView.PAGE_SIZE;
    List<BytesMovedEntry> out = new ArrayList<>();
    out.add(BytesMovedEntry.newBuilder().setSource(MEMORY).setBytesRead(read)
        .setBytesWritten(read - skipped).setBytesStored(stats.getBytesWritten())
        .setBytesSkipped(skipped).build());
    out.addAll(plugins(session));
    return out;
  }

  /**
   * What a restore moved: {@code storedRead} bytes of pages files read into {@code pages}
   * pages, and every plugin's bulk data.
   */
  static List<BytesMovedEntry> restored(long storedRead, long pages, PluginSession session) {
    List<BytesMovedEntry> out = new ArrayList<>();
    out.add(BytesMovedEntry.newBuilder().setSource(MEMORY).setBytesRead(storedRead)
        .setBytesWritten(pages * MemoryView.PAGE_SIZE).setBytesStored(storedRead).build());
    out.addAll(plugins(session));
    return out;
  }

  private static List<BytesMovedEntry> plugins(PluginSession session) {
    List<BytesMovedEntry> out = new ArrayList<>();
    for (Map.Entry<String, ByteCounts> e : session.bulkCounts().entrySet()) {
      out.add(e.getValue().toEntry(e.getKey()));
    }
    return out;
  }
}

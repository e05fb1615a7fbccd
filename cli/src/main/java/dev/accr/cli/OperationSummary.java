package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpReply;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.RestoreReply;
import dev.accr.proto.RestoreStatsEntry;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * The summary a dump or restore prints: time per phase, then what each source moved (host
 * memory, each plugin's device memory) and the throughput over all bytes and the whole
 * operation.
 */
final class OperationSummary {
  private OperationSummary() {}

  static void dump(PrintWriter out, int pid, DumpReply reply) {
    DumpStatsEntry s = reply.getStats();
    out.printf("dumped %d into %s%n", pid, reply.getDir());
    out.printf(Locale.ROOT, "  %s in all, frozen %s: %s%n", ms(s.getTotalTimeUs()),
        ms(s.getFrozenTimeUs()), phases(s.getPhasesList()));
    moved(out, s.getMovedList(), s.getTotalTimeUs(), true);
    out.printf("  compression %s%s%n", s.getCompression(), logLine(reply.getLogFile()));
  }

  static void restore(PrintWriter out, String node, RestoreReply reply) {
    RestoreStatsEntry s = reply.getStats();
    out.printf("restored %d on node %s: %d pages%n", reply.getPid(), node,
        reply.getPagesRestored());
    out.printf("  %s in all: %s%n", ms(reply.getTimeUs()), phases(s.getPhasesList()));
    moved(out, s.getMovedList(), reply.getTimeUs(), false);
    if (reply.hasLazy()) {
      LazySummary.restore(out, reply.getLazy());
    }
    if (!reply.getLogFile().isEmpty()) {
      out.printf("  log %s%n", reply.getLogFile());
    }
  }

  private static String logLine(String logFile) {
    return logFile.isEmpty() ? "" : ", log " + logFile;
  }

  private static void moved(PrintWriter out, List<BytesMovedEntry> moved, long totalUs,
      boolean dump) {
    int width = moved.stream().mapToInt(m -> m.getSource().length()).max().orElse(3);
    width = Math.max(width, 3);
    long read = 0;
    long written = 0;
    long stored = 0;
    for (BytesMovedEntry m : moved) {
      read += m.getBytesRead();
      written += m.getBytesWritten();
      stored += m.getBytesStored();
      out.printf("  %-" + width + "s %s%n", m.getSource(), figures(m, dump));
    }
    long all = dump ? read : written;
    out.printf("  %-" + width + "s %s %s, %s stored: %s%n", "all", Sizes.bytes(all),
        dump ? "read" : "restored", Sizes.bytes(stored), Units.rate(all, totalUs));
  }

  private static String figures(BytesMovedEntry m, boolean dump) {
    if (dump) {
      return Sizes.bytes(m.getBytesRead()) + " read, " + Sizes.bytes(m.getBytesWritten())
          + " written, " + Sizes.bytes(m.getBytesStored()) + " stored, "
          + Sizes.bytes(m.getBytesSkipped()) + " of zeros skipped";
    }
    return Sizes.bytes(m.getBytesRead()) + " read, " + Sizes.bytes(m.getBytesWritten())
        + " written";
  }

  static String phases(List<PhaseTimeEntry> phases) {
    StringBuilder out = new StringBuilder();
    for (PhaseTimeEntry p : phases) {
      out.append(out.isEmpty() ? "" : ", ").append(p.getPhase()).append(' ')
          .append(ms(p.getTimeUs()));
    }
    return out.isEmpty() ? "-" : out.toString();
  }

  private static String ms(long us) {
    return String.format(Locale.ROOT, "%.1f ms", us / 1000.0);
  }
}

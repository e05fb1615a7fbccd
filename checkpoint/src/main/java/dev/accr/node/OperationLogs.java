package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.Sizes;
import dev.accr.engine.Cancellation;
import dev.accr.engine.RestoreRecords;
import dev.accr.image.CheckpointId;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.LogLine;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreStatsEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * How the node logs its dumps and restores: what each {@link OperationLog} begins and ends
 * with, and where it is written. A dump's {@code dump.log} goes into the set; a failed dump's
 * into the directory it was to fill (created if need be, and only if it is empty or holds no
 * more than an earlier failed dump's log, which a later dump there replaces). A restore's
 * {@code restore.log} goes into the set it read, failed or not, next to
 * {@code stats-restore.img} after a restore that succeeded; a failed restore leaves nothing
 * else. Where a log cannot be written, the node's log has its lines at INFO and above.
 */
final class OperationLogs {
  static final String DUMP_LOG = "dump.log";
  static final String RESTORE_LOG = "restore.log";
  private static final Logger LOG = Logger.getLogger(OperationLogs.class.getName());

  private OperationLogs() {}

  /** The log of {@code request} if it is a dump or restore, else null. */
  static OperationLog begin(Request request, Consumer<Response> out) {
    String file = switch (request.getKindCase()) {
      case DUMP -> DUMP_LOG;
      case RESTORE -> RESTORE_LOG;
      default -> null;
    };
    if (file == null) {
      return null;
    }
    Consumer<String> stream = request.getLogLevel() == 0 ? null : line -> out.accept(
        Response.newBuilder().setLog(LogLine.newBuilder().setLine(line)).build());
    return OperationLog.begin(file, LogFormat.levelOf(request.getLogLevel() - 1), stream);
  }

  /** Logs the start of {@code what} with its options; its log belongs in {@code dir}. */
  static void started(OperationLog log, String what, Path dir, String options) {
    log.target(dir, what);
    LOG.info(() -> what + " started (" + options + ")");
  }

  /** A cancellation that stops when {@code first} or {@code second} says so. */
  static Cancellation either(Cancellation first, Cancellation second) {
    return () -> {
      first.check();
      second.check();
    };
  }

  static void dumped(OperationLog log, DumpStatsEntry s) {
    LOG.info(() -> "dump done in " + ms(s.getTotalTimeUs()) + " (frozen " + ms(s.getFrozenTimeUs())
        + "): " + phases(s.getPhasesList()) + "; " + moved(s.getMovedList()));
  }

  static void restored(OperationLog log, RestoreStatsEntry s) {
    LOG.info(() -> "restore of " + s.getPid() + " done in " + ms(s.getTotalTimeUs()) + ": "
        + phases(s.getPhasesList()) + "; " + moved(s.getMovedList()));
  }

  /** Writes {@code stats-restore.img} into the restored set; a failure only warns. */
  static void writeStats(Path dir, CheckpointId id, RestoreStatsEntry stats) {
    try {
      RestoreRecords.writeStats(dir, id, stats);
    } catch (IOException e) {
      LOG.warning(() -> "cannot write stats-restore.img into " + dir + ": " + e.getMessage());
    }
  }

  /**
   * Logs a failed operation with its cause and stack trace and writes its log where it
   * belongs; returns the file, or null (no operation, or nowhere to write it).
   */
  static Path failed(OperationLog log, int code, String message, Throwable t) {
    if (log == null) {
      return null;
    }
    LOG.log(Level.WARNING, (log.what() == null ? "" : log.what() + ": ") + "failed (exit code "
        + code + "): " + message, t);
    Path dir = log.target();
    if (dir == null || code == AccrException.USAGE || code == AccrException.NOT_FOUND) {
      return null; // refused before it began: no log of its own
    }
    boolean dump = log.fileName().equals(DUMP_LOG);
    if (dump && !takesFailedDumpLog(dir)) {
      return null;
    }
    return log.writeInto(dir);
  }

  /** True when {@code dir} is, or now is, a directory for a failed dump's log. */
  private static boolean takesFailedDumpLog(Path dir) {
    try {
      if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Path parent = dir.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
          return false;
        }
        Files.createDirectory(dir);
        return true;
      }
      if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      try (Stream<Path> s = Files.list(dir)) {
        return s.allMatch(f -> f.getFileName().toString().equals(DUMP_LOG));
      }
    } catch (IOException e) {
      return false;
    }
  }

  private static String phases(List<PhaseTimeEntry> phases) {
    StringBuilder out = new StringBuilder();
    for (PhaseTimeEntry p : phases) {
      out.append(out.isEmpty() ? "" : ", ").append(p.getPhase()).append(' ')
          .append(ms(p.getTimeUs()));
    }
    return out.toString();
  }

  private static String moved(List<BytesMovedEntry> moved) {
    StringBuilder out = new StringBuilder();
    for (BytesMovedEntry m : moved) {
      out.append(out.isEmpty() ? "" : ", ").append(m.getSource()).append(' ')
          .append(Sizes.bytes(m.getBytesRead())).append(" read, ")
          .append(Sizes.bytes(m.getBytesWritten())).append(" written, ")
          .append(Sizes.bytes(m.getBytesStored())).append(" stored, ")
          .append(Sizes.bytes(m.getBytesSkipped())).append(" skipped");
    }
    return out.toString();
  }

  private static String ms(long us) {
    return String.format("%.1f ms", us / 1000.0);
  }
}

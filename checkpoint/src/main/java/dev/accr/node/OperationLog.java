package dev.accr.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * The log of one dump or restore, as CRIU's {@code dump.log} and {@code restore.log}: every
 * record accr logs on the operation's thread (its phases, the plugins' steps, a failure with
 * its stack trace), at every level. Kept in memory while the operation runs (bounded), then
 * written as a file; records at or above the level a client asked for are also streamed to it
 * as they come.
 */
public final class OperationLog implements AutoCloseable {
  /** Lines kept at most; beyond, the middle of the log is dropped and the end kept. */
  static final int MAX_LINES = 20_000;

  private final String fileName;
  private final long thread = Thread.currentThread().threadId();
  private final LogFormat format = new LogFormat();
  private final List<String> head = new ArrayList<>();
  private final java.util.ArrayDeque<String> tail = new java.util.ArrayDeque<>();
  private long dropped;
  private final Handler handler;
  private Path target;
  private String what;

  private OperationLog(String fileName, Level streamLevel, Consumer<String> stream) {
    this.fileName = fileName;
    this.handler = new Handler() {
      private boolean streaming = stream != null;

      @Override
      public void publish(LogRecord r) {
        if (r.getLongThreadID() != thread) {
          return;
        }
        String line = format.format(r);
        keep(line);
        if (streaming && r.getLevel().intValue() >= streamLevel.intValue()) {
          try {
            stream.accept(line.stripTrailing());
          } catch (RuntimeException gone) {
            streaming = false; // the client went away; the operation notices on its own
          }
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    handler.setLevel(Level.ALL);
  }

  /**
   * Starts the log of an operation run on this thread, to be written as {@code fileName}
   * ({@code dump.log}, {@code restore.log}); {@code stream}, when not null, receives the lines
   * at {@code streamLevel} and above.
   */
  public static OperationLog begin(String fileName, Level streamLevel, Consumer<String> stream) {
    OperationLog log = new OperationLog(fileName, streamLevel, stream);
    NodeLog.ACCR.setLevel(Level.ALL);
    NodeLog.ACCR.addHandler(log.handler);
    return log;
  }

  private synchronized void keep(String line) {
    if (head.size() < MAX_LINES / 2) {
      head.add(line);
      return;
    }
    tail.addLast(line);
    if (tail.size() > MAX_LINES / 2) {
      tail.removeFirst();
      dropped++;
    }
  }

  /** The name the log is written as. */
  public String fileName() {
    return fileName;
  }

  /** The directory the log belongs in, once known (the set's). */
  public synchronized void target(Path dir, String what) {
    target = dir;
    this.what = what;
  }

  /** What the operation is ({@code dump of process 1000 into DIR}), once known. */
  public synchronized String what() {
    return what;
  }

  public synchronized Path target() {
    return target;
  }

  /** The log's text so far. */
  public synchronized String text() {
    StringBuilder out = new StringBuilder();
    head.forEach(out::append);
    if (dropped > 0) {
      out.append("... ").append(dropped).append(" lines left out ...")
          .append(System.lineSeparator());
    }
    tail.forEach(out::append);
    return out.toString();
  }

  /**
   * Writes the log as {@code fileName} into {@code dir}, replacing an earlier one in one
   * rename; returns the file, or null when it cannot be written there (the node's log has the
   * same records at INFO and above).
   */
  public Path writeInto(Path dir) {
    Path file = dir.resolve(fileName);
    Path temp = null;
    try {
      temp = Files.createTempFile(dir, "." + fileName + ".", ".tmp");
      Files.writeString(temp, text(), StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException | UnsupportedOperationException e) {
      java.util.logging.Logger.getLogger(OperationLog.class.getName()).log(Level.WARNING,
          "cannot write " + file + ": " + e);
      return null;
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // A hidden temporary file at worst.
        }
      }
    }
  }

  @Override
  public void close() {
    NodeLog.ACCR.removeHandler(handler);
  }
}

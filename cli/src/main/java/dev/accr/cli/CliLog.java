package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.node.LogFormat;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Where a command's log goes: with {@code -v} (DEBUG) or {@code -vv} (TRACE) to standard
 * error, with {@code --log-file FILE} (INFO unless {@code -v} says more) to FILE. It holds
 * what accr logs in this JVM and the lines a node streams of the operation it runs for the
 * command (its phases, the plugins' steps). Without either, nothing is logged.
 */
final class CliLog {
  private final int verbosity;
  private final Path file;
  private final Consumer<String> sink;

  private CliLog(int verbosity, Path file, Consumer<String> sink) {
    this.verbosity = verbosity;
    this.file = file;
    this.sink = sink;
  }

  /** No log: what a command gets without {@code -v} or {@code --log-file}. */
  static final CliLog NONE = new CliLog(-1, null, line -> {});

  /** The log that {@code -v} (counted) and {@code --log-file} ask for. */
  static CliLog open(int verbosity, Path file, PrintWriter err) {
    if (verbosity <= 0 && file == null) {
      return NONE;
    }
    Consumer<String> sink;
    if (file != null) {
      PrintStream out;
      try {
        out = new PrintStream(new FileOutputStream(file.toFile(), true), true,
            StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw AccrException.usage("--log-file %s: %s", file, e.getMessage());
      }
      sink = out::println;
    } else {
      sink = line -> {
        err.println(line);
        err.flush();
      };
    }
    CliLog log = new CliLog(Math.max(0, verbosity), file, sink);
    log.install();
    return log;
  }

  /** JUL's records of this JVM go to the sink, at this log's level. */
  private void install() {
    LogManager.getLogManager().reset();
    Logger accr = Logger.getLogger("dev.accr");
    accr.setLevel(level());
    LogFormat format = new LogFormat();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (isLoggable(r)) {
          sink.accept(format.format(r).stripTrailing());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    handler.setLevel(level());
    Logger.getLogger("").addHandler(handler);
    KEEP[0] = accr;
  }

  /** Loggers are held weakly by JUL: this keeps the configured one. */
  private static final Logger[] KEEP = new Logger[1];

  private Level level() {
    return LogFormat.levelOf(verbosity);
  }

  /** The log level a node is asked for: 0 none, 1 INFO, 2 DEBUG, 3 TRACE and up. */
  int nodeLevel() {
    return verbosity < 0 ? 0 : verbosity + 1;
  }

  /** Where a node's log lines go. */
  Consumer<String> nodeLines() {
    return sink;
  }

  /** True when log lines are written on standard error (a progress bar would mix with them). */
  boolean onTerminal() {
    return verbosity > 0 && file == null;
  }

  /** The file, or null. */
  Path file() {
    return file;
  }
}

package dev.accr.node;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * The log of a node daemon: everything accr logs at INFO and above, from every thread, with
 * time and level, on the stream that {@code accr node start} sends to the node's log file.
 * accr's own loggers ({@code dev.accr.*}) pass every level on, so that an operation's log
 * ({@link OperationLog}) can keep its details.
 */
public final class NodeLog {
  /** The parent of accr's loggers, held here so that its level is not lost. */
  static final Logger ACCR = Logger.getLogger("dev.accr");

  private NodeLog() {}

  /** Sends the log to {@code out} from now on, replacing the JVM's default console handler. */
  public static Logger install(OutputStream out) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Handler handler = new StreamHandler(out instanceof PrintStream p ? p : new PrintStream(out),
        new LogFormat()) {
      @Override
      public synchronized void publish(java.util.logging.LogRecord record) {
        super.publish(record);
        flush(); // a line at a time: the log is read while the node runs
      }
    };
    handler.setLevel(Level.INFO);
    root.addHandler(handler);
    ACCR.setLevel(Level.ALL);
    Thread.setDefaultUncaughtExceptionHandler((t, e) ->
        Logger.getLogger("dev.accr.node").log(Level.SEVERE, "uncaught in thread " + t.getName(), e));
    return Logger.getLogger("dev.accr.node");
  }
}

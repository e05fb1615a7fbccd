package dev.accr.node;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * The one line format of accr's logs (node log, dump.log, restore.log, the client's
 * {@code -v}): UTC time to the millisecond, level, message, and a failure's stack trace on the
 * lines that follow.
 */
public final class LogFormat extends Formatter {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** The level names the logs use: ERROR, WARN, INFO, DEBUG, TRACE. */
  public static String levelName(Level level) {
    int v = level.intValue();
    if (v >= Level.SEVERE.intValue()) {
      return "ERROR";
    } else if (v >= Level.WARNING.intValue()) {
      return "WARN";
    } else if (v >= Level.INFO.intValue()) {
      return "INFO";
    } else if (v >= Level.FINE.intValue()) {
      return "DEBUG";
    }
    return "TRACE";
  }

  /** The JUL level of a verbosity: 0 INFO, 1 ({@code -v}) DEBUG, 2 ({@code -vv}) TRACE. */
  public static Level levelOf(int verbosity) {
    return verbosity <= 0 ? Level.INFO : verbosity == 1 ? Level.FINE : Level.ALL;
  }

  @Override
  public String format(LogRecord r) {
    StringBuilder out = new StringBuilder(TIME.format(Instant.ofEpochMilli(r.getMillis())))
        .append(' ').append(String.format("%-5s", levelName(r.getLevel()))).append(' ')
        .append(formatMessage(r)).append(System.lineSeparator());
    if (r.getThrown() != null) {
      StringWriter trace = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(trace));
      out.append(trace);
    }
    return out.toString();
  }
}

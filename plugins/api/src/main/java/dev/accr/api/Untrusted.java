package dev.accr.api;

/**
 * Text taken from images, paths or requests, as it may appear in a one-line message: at most
 * a bounded prefix, with control characters, quotes, backslashes and anything beyond ASCII
 * escaped. Every error that echoes such text goes through here (plugin API version 4), so that
 * a name of ten megabytes or one holding a newline still gives a short single line.
 */
public final class Untrusted {
  /** How many characters of an untrusted string a message quotes. */
  public static final int MAX_QUOTED = 200;
  /** How long a whole message may be before it is cut. */
  public static final int MAX_LINE = 2000;

  private Untrusted() {}

  /** {@code s} quoted in single quotes, escaped and cut after {@link #MAX_QUOTED} characters. */
  public static String quote(String s) {
    if (s == null) {
      return "(none)";
    }
    return "'" + escape(s, MAX_QUOTED) + "'";
  }

  /** {@code s} escaped and cut as in {@link #quote}, without quotes (a file named in a message). */
  public static String name(String s) {
    return s == null ? "(none)" : escape(s, MAX_QUOTED);
  }

  /** A whole message as one line: control characters escaped, cut after {@link #MAX_LINE}. */
  public static String line(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_LINE) + 16);
    int n = Math.min(s.length(), MAX_LINE);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
        out.append(String.format("\\x%02x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (s.length() > n) {
      out.append("... (").append(s.length() - n).append(" more characters)");
    }
    return out.toString().strip();
  }

  private static String escape(String s, int max) {
    int n = Math.min(s.length(), max);
    StringBuilder out = new StringBuilder(n + 16);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '\\' || c == '\'') {
        out.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        out.append(c);
      } else if (c < 0x100) {
        out.append(String.format("\\x%02x", (int) c));
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    if (s.length() > n) {
      out.append("...(").append(s.length()).append(" characters)");
    }
    return out.toString();
  }
}

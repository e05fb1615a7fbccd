package dev.accr.kernel;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a JSON parser's message into one a user can act on: where in the file (line and
 * column), what is wrong, without the parser's class names.
 */
final class JsonErrors {
  private static final Pattern CLASS_PREFIX =
      Pattern.compile("^(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error):\\s*");
  private static final Pattern AT =
      Pattern.compile("^(.*?) at line (\\d+) column (\\d+)(?: path (\\S+))?.*$");
  private static final Pattern UNKNOWN_FIELD =
      Pattern.compile("^Cannot find field: (\\S+) in message (\\S+)$");

  private JsonErrors() {}

  /** {@code FILE, line L, column C: what (at $.path)}, from {@code message} about {@code json}. */
  static String describe(String source, String json, String message) {
    String m = firstLine(message);
    for (Matcher c = CLASS_PREFIX.matcher(m); c.find(); c = CLASS_PREFIX.matcher(m)) {
      m = m.substring(c.end());
    }
    Matcher at = AT.matcher(m);
    if (at.matches()) {
      return String.format("%s, line %s, column %s: %s%s", source, at.group(2), at.group(3),
          lowerFirst(at.group(1)), at.group(4) == null ? "" : " (at " + at.group(4) + ")");
    }
    Matcher unknown = UNKNOWN_FIELD.matcher(m);
    if (unknown.matches()) {
      String field = unknown.group(1);
      String type = unknown.group(2).replaceFirst("^.*\\.", "");
      int offset = json.indexOf("\"" + field + "\"");
      return offset < 0 ? String.format("%s: unknown field '%s' in %s", source, field, type)
          : String.format("%s, %s: unknown field '%s' in %s", source, position(json, offset),
              field, type);
    }
    return source + ": " + m;
  }

  private static String position(String json, int offset) {
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < offset; i++) {
      if (json.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return "line " + line + ", column " + (offset - lineStart + 1);
  }

  private static String lowerFirst(String s) {
    return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static String firstLine(String s) {
    int nl = s == null ? -1 : s.indexOf('\n');
    return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
  }
}

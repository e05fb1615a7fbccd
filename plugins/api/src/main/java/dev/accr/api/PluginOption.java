package dev.accr.api;

import java.util.List;

/**
 * An option a plugin declares (API version 4): users give it as {@code --plugin-opt
 * PLUGIN.NAME=VALUE}. The host refuses options no plugin declares and values outside the
 * declared type or range before any hook runs, and {@code accr plugins} lists them.
 *
 * @param name lowercase letters, digits and dashes, without the plugin prefix
 * @param kind what values it takes
 * @param defaultValue what the plugin uses when the option is not given
 * @param min smallest value of an {@link Kind#INTEGER} option
 * @param max largest value of an {@link Kind#INTEGER} option
 * @param choices the values of a {@link Kind#CHOICE} option
 * @param description one line for {@code accr plugins}
 */
public record PluginOption(String name, Kind kind, String defaultValue, long min, long max,
    List<String> choices, String description) {

  /** The kinds of value an option takes. */
  public enum Kind {
    INTEGER,
    CHOICE,
    TEXT
  }

  public PluginOption {
    if (name == null || !name.matches("[a-z][a-z0-9-]*")) {
      throw new IllegalArgumentException("option name '" + name + "' is not lowercase letters,"
          + " digits and dashes");
    }
    choices = List.copyOf(choices);
    String problem = kind == Kind.TEXT ? null : checkValue(kind, defaultValue, min, max, choices);
    if (problem != null) {
      throw new IllegalArgumentException("option " + name + ": default " + problem);
    }
  }

  /** A whole number in {@code [min, max]}. */
  public static PluginOption integer(String name, long defaultValue, long min, long max,
      String description) {
    return new PluginOption(name, Kind.INTEGER, Long.toString(defaultValue), min, max, List.of(),
        description);
  }

  /** One of {@code choices}. */
  public static PluginOption choice(String name, String defaultValue, List<String> choices,
      String description) {
    return new PluginOption(name, Kind.CHOICE, defaultValue, 0, 0, choices, description);
  }

  /** Any text. */
  public static PluginOption text(String name, String defaultValue, String description) {
    return new PluginOption(name, Kind.TEXT, defaultValue, 0, 0, List.of(), description);
  }

  /** What {@code value} is wrong with, in a few words; null if the option accepts it. */
  public String check(String value) {
    return checkValue(kind, value, min, max, choices);
  }

  /** The values it takes, for help text: {@code 1..4096}, {@code dma|cpu|auto} or {@code TEXT}. */
  public String range() {
    return switch (kind) {
      case INTEGER -> min + ".." + max;
      case CHOICE -> String.join("|", choices);
      case TEXT -> "TEXT";
    };
  }

  private static String checkValue(Kind kind, String value, long min, long max,
      List<String> choices) {
    if (value == null) {
      return "is missing";
    }
    return switch (kind) {
      case TEXT -> null;
      case CHOICE -> choices.contains(value) ? null
          : "'" + value + "' is not one of " + String.join(", ", choices);
      case INTEGER -> {
        long v;
        try {
          v = Long.parseLong(value);
        } catch (NumberFormatException e) {
          yield "'" + value + "' is not a whole number";
        }
        yield v < min || v > max ? value + " is outside " + min + ".." + max : null;
      }
    };
  }
}

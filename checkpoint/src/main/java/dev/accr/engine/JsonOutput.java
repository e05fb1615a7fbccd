package dev.accr.engine;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;

/**
 * The JSON that accr prints for people and scripts: protobuf's JSON form, with the characters
 * JsonFormat escapes for HTML ({@code = < > & '} as {@code \u003d} ...) printed as themselves,
 * since nothing here is embedded in a page.
 */
public final class JsonOutput {
  private JsonOutput() {}

  /** {@code message} as JSON, resolving {@code Any} fields with {@code types}. */
  public static String print(MessageOrBuilder message, TypeRegistry types) {
    try {
      return unescapeHtmlSafe(JsonFormat.printer().usingTypeRegistry(types).print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getName(), e);
    }
  }

  /** {@code message} as JSON. */
  public static String print(MessageOrBuilder message) {
    return print(message, TypeRegistry.getEmptyTypeRegistry());
  }

  /** {@code message} as JSON with every field, zero-valued ones included. */
  public static String printWithZeros(MessageOrBuilder message) {
    try {
      return unescapeHtmlSafe(JsonFormat.printer().alwaysPrintFieldsWithNoPresence()
          .print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getName(), e);
    }
  }

  /**
   * Turns the {@code \}{@code u003d}-style escapes of {@code = < > & '} back into the characters;
   * every other escape (an escaped backslash included) is kept as it is.
   */
  static String unescapeHtmlSafe(String json) {
    StringBuilder out = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c != '\\' || i + 1 >= json.length()) {
        out.append(c);
        continue;
      }
      char next = json.charAt(i + 1);
      if (next == 'u' && i + 6 <= json.length()) {
        String code = json.substring(i + 2, i + 6);
        char plain = switch (code) {
          case "003d" -> '=';
          case "003c" -> '<';
          case "003e" -> '>';
          case "0026" -> '&';
          case "0027" -> '\'';
          default -> 0;
        };
        if (plain != 0) {
          out.append(plain);
          i += 5;
          continue;
        }
      }
      out.append(c).append(next); // an escape pair, copied whole
      i++;
    }
    return out.toString();
  }
}

package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import com.google.protobuf.util.JsonFormat;
import org.junit.jupiter.api.Test;

class JsonOutputTest {
  @Test
  void htmlSafeEscapesBecomeTheirCharacters() {
    assertEquals("\"a=b<c>d&e'f\"",
        JsonOutput.unescapeHtmlSafe("\"a\\u003db\\u003cc\\u003ed\\u0026e\\u0027f\""));
  }

  @Test
  void anEscapedBackslashBeforeU003dSurvives() {
    // The JSON text \\u003d is a backslash followed by the letters u003d, not an escape.
    String json = "\"\\\\u003d\"";
    assertEquals(json, JsonOutput.unescapeHtmlSafe(json));
    assertEquals("\"\\\\=\"", JsonOutput.unescapeHtmlSafe("\"\\\\\\u003d\""));
  }

  @Test
  void otherEscapesAndTruncatedOnesAreKept() {
    for (String json : new String[] {"\"\\n\\t\\\"\\u0007\\u00e9\"", "\"\\u003", "\"\\"}) {
      assertEquals(json, JsonOutput.unescapeHtmlSafe(json));
    }
  }

  @Test
  void printedJsonHasNoHtmlEscapesAndParsesBackToTheSameMessage() throws Exception {
    String text = "x=1 <b> & 'q' \\u003d \"quoted\" \u0001";
    String json = JsonOutput.print(StringValue.of(text));
    // An HTML escape is a backslash-u not itself preceded by an escaping backslash.
    assertFalse(json.matches("(?s).*(?<!\\\\)\\\\u00(3d|3c|3e|26|27).*"), json);
    StringValue.Builder back = StringValue.newBuilder();
    JsonFormat.parser().merge(json, back);
    assertEquals(text, back.getValue());

    BytesValue bytes = BytesValue.of(ByteString.copyFrom(new byte[] {1, 2, 3, 4}));
    String base64 = JsonOutput.print(bytes);
    assertEquals("\"AQIDBA==\"", base64);
  }
}

package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A typo in a topology file is named by file, line and column, without parser class names. */
class JsonErrorsTest {
  private final Topologies topologies = Registry.of(List.of(), List.of(), List.of()).topologies();

  private String error(String json) {
    AccrException e = org.junit.jupiter.api.Assertions.assertThrows(AccrException.class,
        () -> topologies.parse(json, "t.json"));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertFalse(e.getMessage().contains("Exception") || e.getMessage().contains("com."),
        e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    return e.getMessage();
  }

  @Test
  void aSyntaxErrorNamesLineAndColumn() {
    String m = error("{\n  \"name\": \"x\",\n  \"cpus\": [{ x\n    \"node\": 0 }]\n}");
    assertTrue(m.startsWith("topology t.json, line 4, column "), m);
    assertTrue(m.contains("expected ':'") && m.contains("accr topology show PRESET --json"), m);
  }

  @Test
  void anUnknownFieldNamesWhereItIs() {
    String m = error("{\n  \"name\": \"x\",\n  \"cpuz\": 1\n}");
    assertEquals("topology t.json, line 3, column 3: unknown field 'cpuz' in Topology; fix the"
        + " file, or start from 'accr topology show PRESET --json'", m);
  }
}

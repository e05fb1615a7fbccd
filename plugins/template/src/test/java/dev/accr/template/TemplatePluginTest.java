package dev.accr.template;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.api.testkit.PluginTestKit;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin test kit's digest check, as every plugin should run it. */
class TemplatePluginTest {
  @TempDir Path tmp;

  @Test
  void tmplCountSurvivesDumpsAtAnyStep() throws Exception {
    assertEquals(5, PluginTestKit.check("tmpl-count", List.of("--steps", "12")).from("tmpl1")
        .afterSteps(0, 1, 7, 12).afterRandomSteps(1, 12).run(tmp).size());
  }
}

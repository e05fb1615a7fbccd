package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A third device type needs no edit outside its module: the template plugin's jar, alone in a
 * plugin directory, gives {@code ./accr} its device label, its inspect summary and its diff.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TemplatePluginIT {
  private Path tmp;
  private Launcher accr;
  private Map<String, String> withTemplate;

  @BeforeAll
  void dumpTwice(@TempDir Path dir) throws Exception {
    tmp = dir;
    Path plugins = Files.createDirectories(tmp.resolve("plugins"));
    Files.copy(TemplateJar.path(), plugins.resolve("accr-plugin-template.jar"));
    withTemplate = Map.of("ACCR_PLUGIN_DIR", plugins.toString());
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok(withTemplate, "node", "start", "--name", "t", "--topology", "tmpl1");
    String pid = accr.ok(withTemplate, "run", "--node", "t", "--step-delay-ms", "5",
        "tmpl-count", "--steps", "1000000").strip();
    Thread.sleep(200);
    accr.ok(withTemplate, "dump", "--node", "t", "-t", pid, "-D", "first", "-R");
    Thread.sleep(300);
    accr.ok(withTemplate, "dump", "--node", "t", "-t", pid, "-D", "second", "-R");
  }

  @AfterAll
  void stopNode() throws Exception {
    accr.run(withTemplate, "node", "stop", "--name", "t");
  }

  @Test
  void topologyShowsTheDeviceAsItsTypeLabelsIt() throws Exception {
    String shown = accr.ok(withTemplate, "topology", "show", "tmpl1");
    assertTrue(shown.contains("  node 1: tmpl /dev/tmpl0, 8 registers\n"), shown);
  }

  @Test
  void inspectShowsTheRegistersOnlyWhenThePluginIsInstalled() throws Exception {
    String text = accr.ok(withTemplate, "inspect", "first");
    assertTrue(text.contains("\ntmpl: registers of /dev/tmpl0\n"), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("\\s+pid(\\s+r[0-7]){8}")), text);
    String json = accr.ok(withTemplate, "inspect", "first", "--json");
    assertTrue(json.contains("\"plugin\": \"tmpl\"")
        && json.contains("\"@type\": \"type.googleapis.com/google.protobuf.Struct\""), json);
    String bare = accr.ok(Map.of("ACCR_PLUGIN_DIR", ""), "inspect", "first");
    assertFalse(bare.contains("tmpl: registers"), bare);
  }

  @Test
  void diffShowsTheRegistersThatChanged() throws Exception {
    Launcher.Result r = accr.run(withTemplate, "diff", "first", "second");
    assertEquals(1, r.exitCode(), "the checkpoints differ: " + r.err());
    String diff = r.out();
    int at = diff.indexOf("\ntmpl: registers changed\n");
    assertTrue(at >= 0, diff);
    String firstRow = diff.substring(at).lines().skip(3).findFirst().orElseThrow();
    assertTrue(firstRow.matches("\\s+\\d+\\s+r[0-7]\\s+\\d+\\s+\\d+"), diff);
  }
}

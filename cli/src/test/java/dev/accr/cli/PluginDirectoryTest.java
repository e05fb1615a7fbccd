package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The template device type, loaded from a plugin directory: a registry sees the plugins,
 * workloads and presets of its own directories only, so two nodes in one JVM with different
 * directories do not see each other's.
 */
class PluginDirectoryTest {
  @TempDir static Path tmp;
  static Path withTemplate;
  static Path empty;

  @BeforeAll
  static void pluginDirectories() throws Exception {
    withTemplate = Files.createDirectories(tmp.resolve("with-template"));
    Files.copy(TemplateJar.path(), withTemplate.resolve("accr-template.jar"));
    empty = Files.createDirectories(tmp.resolve("empty"));
  }

  @Test
  void twoNodesWithDifferentPluginDirectoriesDoNotSeeEachOthersExtensions() throws Exception {
    Registry a = Registry.load(List.of(withTemplate));
    Registry b = Registry.load(List.of(empty));
    assertTrue(a.plugins().stream().map(AccrPlugin::name).toList().contains("tmpl"));
    assertFalse(b.plugins().stream().map(AccrPlugin::name).toList().contains("tmpl"));
    assertNotNull(a.deviceType("tmpl"));
    assertNull(b.deviceType("tmpl"));
    assertTrue(a.topologies().presets().contains("tmpl1"));
    assertFalse(b.topologies().presets().contains("tmpl1"));
    List<String> templateWorkloads = a.workloads().keySet().stream()
        .filter(w -> !b.workloads().containsKey(w)).toList();
    assertFalse(templateWorkloads.isEmpty(), "the template brings a workload");

    try (Node withTmpl = new Node("a", a.topologies().load("tmpl1"), a);
        Node without = new Node("b", b.topologies().load("cpu-only"), b)) {
      int pid = withTmpl.create(templateWorkload(a, b), List.of(), tmp, 0).pid();
      assertTrue(withTmpl.hasPid(pid));
      AccrException e = org.junit.jupiter.api.Assertions.assertThrows(AccrException.class,
          () -> without.create(templateWorkload(a, b), List.of(), tmp, 0));
      assertEquals(AccrException.USAGE, e.exitCode(), e.getMessage());
      AccrException topology = org.junit.jupiter.api.Assertions.assertThrows(
          AccrException.class, () -> b.topologies().load("tmpl1"));
      assertEquals(AccrException.USAGE, topology.exitCode());
    }
  }

  private static String templateWorkload(Registry a, Registry b) {
    return a.workloads().keySet().stream().filter(w -> !b.workloads().containsKey(w))
        .findFirst().orElseThrow();
  }

  private static CliRun accr(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = AccrCommandLine.create(new PrintWriter(out), new PrintWriter(err), env)
        .execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  @Test
  void pluginDirectoriesComeFromTheOptionAnywhereOrTheEnvironment() {
    CliRun before = accr(Map.of(), "plugins");
    assertEquals(0, before.code(), before.err());
    assertFalse(before.out().contains("tmpl1"), before.out());
    for (CliRun r : List.of(accr(Map.of(), "plugins", "--plugin-dir", withTemplate.toString()),
        accr(Map.of(), "--plugin-dir", withTemplate.toString(), "plugins"),
        accr(Map.of("ACCR_PLUGIN_DIR", empty + ":" + withTemplate), "plugins"))) {
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().contains("tmpl1") && r.out().contains("  tmpl "), r.out());
      assertTrue(r.out().contains("plugin directories: ") && r.out().contains(withTemplate
          .toString()), r.out());
    }
  }

  @Test
  void theTemplatesTopologyIsShownOnlyWithItsPluginDirectory() {
    CliRun without = accr(Map.of(), "topology", "show", "tmpl1");
    assertEquals(2, without.code(), without.out());
    CliRun with = accr(Map.of(), "topology", "show", "tmpl1", "--json", "--plugin-dir",
        withTemplate.toString());
    assertEquals(0, with.code(), with.err());
    assertTrue(with.out().contains("\"type\": \"tmpl\""), with.out());
  }

  @Test
  void aMissingPluginDirectoryIsAUsageError() {
    CliRun r = accr(Map.of(), "plugins", "--plugin-dir", tmp.resolve("nope").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("plugin directory") && r.err().contains("nope"), r.err());
  }
}

package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The npu as a plugin through {@code ./accr} and node daemons. The runnable jar does not
 * contain it: the launcher's plugin directory does. A process is dumped while npu jobs run; a
 * node started without the plugin directory refuses the image naming the plugin, and one given
 * the npu jar with {@code --plugin-dir} restores it, and it ends with the uninterrupted digest.
 * (README's tour, run by {@link TourIT}, moves npu-infer to a node of another preset.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NpuEndToEndIT {
  /** No plugin directory at all: the node sees only what the jar holds. */
  private static final Map<String, String> BARE = Map.of("ACCR_PLUGIN_DIR", "");
  private static final String[] WORKLOAD = {"npu-infer", "--steps", "60", "--seed", "11",
      "--batch", "16", "--model-mib", "4", "--npu-us-per-req", "300"};

  private Path tmp;
  private Launcher accr;
  private String expected;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "n1", "--topology", "npu4");
    String pid = accr.ok(run("n1", 0)).strip();
    expected = accr.ok("wait", "--node", "n1", "-t", pid).strip();
    assertTrue(expected.startsWith("digest: "), expected);
  }

  @AfterAll
  void stopNodes() throws Exception {
    for (String n : new String[] {"n1", "bare", "loaded"}) {
      accr.run("node", "stop", "--name", n);
    }
  }

  private String[] run(String node, int stepDelayMs) {
    String[] head = {"run", "--node", node, "--step-delay-ms", "" + stepDelayMs};
    String[] all = new String[head.length + WORKLOAD.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(WORKLOAD, 0, all, head.length, WORKLOAD.length);
    return all;
  }

  private String dumpMidRun(String images) throws Exception {
    String pid = accr.ok(run("n1", 100)).strip();
    Thread.sleep(250);
    String dump = accr.ok("dump", "--node", "n1", "-t", pid, "-D", images);
    assertTrue(dump.contains("dumped " + pid), dump);
    return pid;
  }

  @Test
  void theNpuIsAPluginLoadedFromAPluginDirectory() throws Exception {
    assertFalse(accr.ok(BARE, "plugins").contains("npu"), "the jar itself has no npu");
    String pid = dumpMidRun("plugin-images");
    String shown = accr.ok("show", "plugin-images/npu-devices-" + pid + ".img");
    assertTrue(shown.contains("NpuDeviceEntry") && shown.contains("nx2"), shown);

    accr.ok(BARE, "node", "start", "--name", "bare", "--topology", "cpu-only");
    Launcher.Result refused = accr.run(BARE, "restore", "--node", "bare", "-D", "plugin-images");
    assertEquals(4, refused.exitCode(), refused.err());
    assertTrue(refused.err().contains("plugin 'npu'"), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());

    Path dir = Files.createDirectories(tmp.resolve("npu-plugin"));
    Path plugins = Path.of(System.getProperty("accr.launcher", "../accr")).toAbsolutePath()
        .getParent().resolve("cli/target/plugins");
    List<Path> jars;
    try (var files = Files.list(plugins)) {
      jars = files.filter(f -> f.getFileName().toString().matches("accr-npu-[0-9.]+\\.jar"))
          .toList();
    }
    assertEquals(1, jars.size(), "the packed npu jar in " + plugins + ": " + jars);
    Files.copy(jars.getFirst(), dir.resolve("accr-npu.jar"));
    accr.ok(BARE, "node", "start", "--name", "loaded", "--topology", "npu4", "--plugin-dir",
        dir.toString());
    accr.ok(BARE, "restore", "--node", "loaded", "-D", "plugin-images");
    assertEquals(expected, accr.ok(BARE, "wait", "--node", "loaded", "-t", pid).strip());
  }
}

package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU workloads moved mid-run between node daemons of different presets through
 * {@code ./accr}: dumped, restored on another preset, dumped again and restored on a third,
 * then finished with the digest of an uninterrupted run; and the dry run of the mapping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopologyMoveIT {
  private Launcher accr;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    accr = new Launcher(dir.resolve("run"), dir);
    accr.ok("node", "start", "--name", "m100", "--topology", "mi100x2");
    accr.ok("node", "start", "--name", "m250", "--topology", "mi250x4");
    accr.ok("node", "start", "--name", "m300", "--topology", "mi300x8");
  }

  @AfterAll
  void stopNodes() throws Exception {
    for (String n : List.of("m100", "m250", "m300")) {
      accr.run("node", "stop", "--name", n);
    }
  }

  @Test
  void kfdHaloMovesFromMi250ToMi300AndOnToMi100() throws Exception {
    String[] workload = {"kfd-halo", "--gpus", "2", "--vram-mib", "8", "--steps", "60",
        "--seed", "5", "--gpu-us-per-wg", "10"};
    String expected = uninterrupted("m250", workload);
    String pid = startMidRun("m250", workload);
    String plan = accr.ok("topology", "map", "-D", dump("m250", pid, "halo-1"), "--to",
        "mi300x8", "--relax", "caches", "--json");
    assertTrue(plan.contains("\"ok\": true") && plan.contains("\"targetId\""), plan);
    move(pid, "halo-1", "m300", "caches");
    Thread.sleep(200);
    move(pid, dump("m300", pid, "halo-2"), "m100", "vram,capability,fw,caches");
    assertEquals(expected, accr.ok("wait", "--node", "m100", "-t", pid).strip());
  }

  @Test
  void kfdTrainMovesFromMi100ToMi250AndOnToMi300() throws Exception {
    String[] workload = {"kfd-train", "--gpus", "2", "--vram-mib", "8", "--steps", "60",
        "--seed", "7", "--gpu-us-per-wg", "10"};
    String expected = uninterrupted("m100", workload);
    String pid = startMidRun("m100", workload);
    move(pid, dump("m100", pid, "train-1"), "m250", "capability,fw,caches");
    Thread.sleep(200);
    move(pid, dump("m250", pid, "train-2"), "m300", "caches");
    assertEquals(expected, accr.ok("wait", "--node", "m300", "-t", pid).strip());
  }

  @Test
  void aDryRunExplainsWhyNoMappingExistsAndRestoreLeavesNothing() throws Exception {
    String pid = startMidRun("m250", "kfd-halo", "--gpus", "2", "--vram-mib", "4", "--steps",
        "60");
    String images = dump("m250", pid, "halo-strict");
    Launcher.Result strict = accr.run("topology", "map", "-D", images, "--to", "mi300x8");
    assertEquals(4, strict.exitCode(), strict.err());
    assertTrue(strict.err().strip().startsWith("accr: kfd: cannot place gpu 0x"), strict.err());
    assertTrue(strict.err().contains("cachesCount: image=4 target=292"), strict.err());
    assertEquals(1, strict.err().strip().lines().count(), strict.err());
    Launcher.Result json = accr.run("topology", "map", "-D", images, "--to", "mi100x1",
        "--json");
    assertEquals(4, json.exitCode(), json.err());
    assertTrue(json.out().contains("\"exitCode\": 4") && json.out().contains("mi100x1 has 1"),
        json.out());
    String dot = accr.ok("topology", "map", "-D", images, "--to", "mi300x8", "--relax",
        "caches", "--dot");
    assertTrue(dot.startsWith("digraph mapping {") && dot.contains("-> target_")
        && dot.contains("XGMI"), dot);
    Launcher.Result forced = accr.run("restore", "--node", "m300", "-D", images, "--relax",
        "caches", "--device-map", "0x" + firstImageGpu(images) + "=0x1234");
    assertEquals(4, forced.exitCode(), forced.err());
    assertTrue(forced.err().contains("has no GPU 0x1234"), forced.err());
    assertFalse(accr.ok("ps", "--node", "m300").lines().anyMatch(l -> l.startsWith(pid + " ")));
    Launcher.Result unknown = accr.run("restore", "--node", "m300", "-D", images, "--relax",
        "cache");
    assertEquals(2, unknown.exitCode(), unknown.err());
    move(pid, images, "m300", "caches");
    assertTrue(accr.ok("wait", "--node", "m300", "-t", pid).startsWith("digest: "));
  }

  private String startMidRun(String node, String... workload) throws Exception {
    List<String> run = new ArrayList<>(List.of("run", "--node", node, "--step-delay-ms", "40"));
    run.addAll(List.of(workload));
    String pid = accr.ok(run.toArray(String[]::new)).strip();
    Thread.sleep(300);
    return pid;
  }

  private String uninterrupted(String node, String... workload) throws Exception {
    List<String> run = new ArrayList<>(List.of("run", "--node", node));
    run.addAll(List.of(workload));
    String pid = accr.ok(run.toArray(String[]::new)).strip();
    return accr.ok("wait", "--node", node, "-t", pid).strip();
  }

  private String dump(String node, String pid, String images) throws Exception {
    accr.ok("dump", "--node", node, "-t", pid, "-D", images, "--compress", "zstd");
    return images;
  }

  private void move(String pid, String images, String to, String relax) throws Exception {
    String out = accr.ok("restore", "--node", to, "-D", images, "--relax", relax);
    assertTrue(out.contains("restored " + pid) && out.contains("  kfd 0x"), out);
  }

  private String firstImageGpu(String images) throws Exception {
    String plan = accr.ok("topology", "map", "-D", images, "--to", "mi300x8", "--relax",
        "caches");
    String line = plan.lines().filter(l -> l.startsWith("  kfd 0x")).findFirst().orElseThrow();
    return line.substring("  kfd 0x".length(), line.indexOf(' ', "  kfd 0x".length()));
  }
}

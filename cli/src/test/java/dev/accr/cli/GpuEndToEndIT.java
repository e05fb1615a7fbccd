package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * GPU workloads through {@code ./accr} and real node daemons: dumped while dispatches run,
 * restored on a node whose GPUs have other ids, finished with the uninterrupted digest.
 * (README's tour, run by {@link TourIT}, moves kfd-train through the DMA path.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GpuEndToEndIT {
  private Path tmp;
  private Launcher accr;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "g1", "--topology", "mi250x4");
    accr.ok("node", "start", "--name", "g2", "--topology", "mi250x4");
  }

  @AfterAll
  void stopNodes() throws Exception {
    accr.run("node", "stop", "--name", "g1");
    accr.run("node", "stop", "--name", "g2");
  }

  private String digestOf(String... workload) throws Exception {
    String[] run = new String[workload.length + 3];
    run[0] = "run";
    run[1] = "--node";
    run[2] = "g1";
    System.arraycopy(workload, 0, run, 3, workload.length);
    String pid = accr.ok(run).strip();
    return accr.ok("wait", "--node", "g1", "-t", pid).strip();
  }

  /** Every GPU workload has buffers, queues and events; {@code more} are its own entry types. */
  private void moveMidRun(String images, String copyMode, List<String> more, String... workload)
      throws Exception {
    String expected = digestOf(workload);
    String[] run = new String[workload.length + 5];
    System.arraycopy(new String[] {"run", "--node", "g1", "--step-delay-ms", "40"}, 0, run, 0, 5);
    System.arraycopy(workload, 0, run, 5, workload.length);
    String pid = accr.ok(run).strip();
    Thread.sleep(300);
    String dump = accr.ok("dump", "--node", "g1", "-t", pid, "-D", images, "--compress", "zstd",
        "--plugin-opt", "kfd.vram-copy=" + copyMode, "--plugin-opt", "kfd.staging-mib=8");
    assertTrue(dump.contains("dumped " + pid), dump);
    String shown = accr.ok("show", images);
    assertTrue(shown.contains("# kfd-svm-" + pid + ".img"), shown);
    List<String> entries = new ArrayList<>(List.of("KfdDeviceEntry", "KfdBoEntry",
        "KfdQueueEntry", "KfdEventEntry"));
    entries.addAll(more);
    for (String entry : entries) {
      assertTrue(shown.contains(entry), workload[0] + ": show lists no " + entry + "\n" + shown);
    }
    accr.ok("restore", "--node", "g2", "-D", images);
    assertEquals(expected, accr.ok("wait", "--node", "g2", "-t", pid).strip());
  }

  @Test
  void kfdHaloMovesBetweenNodesWithTheAutoPath() throws Exception {
    // kfd-halo keeps its slabs and halos in VRAM buffers: it registers no SVM range.
    moveMidRun("halo-images", "auto", List.of(), "kfd-halo", "--gpus", "2", "--vram-mib", "8",
        "--steps", "40", "--seed", "4", "--gpu-us-per-wg", "10");
  }

  /**
   * The CLI and node side of a lazy restore (the digests are proven by the engine's and kfd's
   * lazy restore tests): the process runs at once, ps tells how its pages came until all are
   * in, and it is ended explicitly.
   */
  @Test
  void kfdServeRestoredLazilyRunsAtOnceAndPsSaysHowItsPagesCame() throws Exception {
    String pid = accr.ok("run", "--node", "g1", "--step-delay-ms", "20", "kfd-serve", "--gpus",
        "2", "--weights-mib", "4", "--kv-mib", "4", "--steps", "1000000").strip();
    accr.ok("dump", "--node", "g1", "-t", pid, "-D", "lazy-images");
    String restored = accr.ok("restore", "--node", "g2", "-D", "lazy-images", "--lazy",
        "--no-page-check");
    assertTrue(restored.contains("lazy: kfd VRAM blocks") && restored.contains("restored " + pid),
        restored);
    String ps = accr.ok("ps", "--node", "g2");
    for (long deadline = System.nanoTime() + 60_000_000_000L; !ps.contains("all in after")
        && System.nanoTime() < deadline; ps = accr.ok("ps", "--node", "g2")) {
      Thread.sleep(100);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "lazy: (\\d+)/(\\d+) pages in \\((\\d+) by fault, (\\d+) pushed\\); kfd VRAM blocks:"
        + " (\\d+)/(\\d+) in \\((\\d+) by fault, (\\d+) pushed\\); all in after").matcher(ps);
    assertTrue(m.find(), ps);
    assertEquals(m.group(2), m.group(1), ps);
    assertEquals(Long.parseLong(m.group(1)), Long.parseLong(m.group(3))
        + Long.parseLong(m.group(4)), ps);
    assertEquals(m.group(6), m.group(5), ps);
    assertTrue(Long.parseLong(m.group(6)) > 0, ps);
    assertTrue(ps.contains(pid + " ") && ps.contains("running"), ps);
    accr.ok("kill", "--node", "g2", "-t", pid);
  }

  @Test
  void restoreOnANodeWithoutGpusIsIncompatible() throws Exception {
    accr.ok("node", "start", "--name", "cpu", "--topology", "cpu-only");
    try {
      String pid = accr.ok("run", "--node", "g1", "--step-delay-ms", "40", "kfd-train",
          "--steps", "100").strip();
      accr.ok("dump", "--node", "g1", "-t", pid, "-D", "nogpu-images", "-R");
      Launcher.Result r = accr.run("restore", "--node", "cpu", "-D", "nogpu-images");
      assertEquals(4, r.exitCode(), r.err());
      assertTrue(r.err().contains("GPU"), r.err());
      assertTrue(accr.ok("wait", "--node", "g1", "-t", pid).startsWith("digest: "));
    } finally {
      accr.run("node", "stop", "--name", "cpu");
    }
  }
}

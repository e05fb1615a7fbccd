package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU workloads through {@code ./accr} and node daemons of different presets: moved mid-run,
 * while dispatches run, from one preset to another and on to a third, then finished with the
 * digest of an uninterrupted run (which runs alongside, on the first node); restores refused
 * by the mapping leave nothing; a lazy restore; a node without GPUs refusing a GPU image.
 * (README's tour, run by {@link TourIT}, moves kfd-train through the DMA path; the dry run's
 * explanations are {@link TopologyOutputTest}'s.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopologyMoveIT {
  private static final Pattern LAZY_PS = Pattern.compile("lazy: (\\d+)/(\\d+) pages in"
      + " \\((\\d+) by fault, (\\d+) pushed\\); kfd VRAM blocks: (\\d+)/(\\d+) in \\((\\d+) by"
      + " fault, (\\d+) pushed\\); all in after");

  private static final List<String> NODES = List.of("m100:mi100x2", "m250:mi250x4",
      "m300:mi300x8", "cpu:cpu-only");

  private Launcher accr;
  private Path tmp;

  /** The nodes start (and stop) together: each is a JVM of its own that takes seconds. */
  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    // Made private before the nodes start together: one of them creating it must not leave
    // the others a moment in which it is open to all.
    Files.createDirectories(dir.resolve("run"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    accr = new Launcher(dir.resolve("run"), dir);
    together(NODES.stream().map(n -> (Callable<String>) () -> accr.ok("node", "start",
        "--name", n.substring(0, n.indexOf(':')), "--topology",
        n.substring(n.indexOf(':') + 1))).toList());
  }

  @AfterAll
  void stopNodes() throws Exception {
    together(NODES.stream().map(n -> (Callable<Launcher.Result>) () -> accr.run("node", "stop",
        "--name", n.substring(0, n.indexOf(':')))).toList());
  }

  private static <T> void together(List<Callable<T>> commands) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(commands.size());
    try {
      for (Future<T> f : pool.invokeAll(commands)) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void kfdHaloMovesFromMi250ToMi300AndOnToMi100() throws Exception {
    String[] workload = {"kfd-halo", "--gpus", "2", "--vram-mib", "2", "--steps", "200",
        "--seed", "5", "--gpu-us-per-wg", "10"};
    String reference = start("m250", 0, workload);
    String pid = startMidRun("m250", workload);
    // The first dump copies VRAM through the auto path with a small staging buffer.
    String dump = accr.ok("dump", "--node", "m250", "-t", pid, "-D", "halo-1", "--compress",
        "zstd", "--plugin-opt", "kfd.vram-copy=auto", "--plugin-opt", "kfd.staging-mib=8");
    assertTrue(dump.contains("dumped " + pid), dump);
    move(pid, "halo-1", "m300", "caches");
    move(pid, unpaced(dump("m300", pid, "halo-2"), pid), "m100", "vram,capability,fw,caches");
    // The first set's contents, looked at while the process runs on.
    String shown = accr.ok("show", "halo-1");
    // kfd-halo keeps its slabs and halos in VRAM buffers: it registers no SVM range.
    assertTrue(shown.contains("# kfd-svm-" + pid + ".img"), shown);
    for (String entry : List.of("KfdDeviceEntry", "KfdBoEntry", "KfdQueueEntry",
        "KfdEventEntry")) {
      assertTrue(shown.contains(entry), "show lists no " + entry + "\n" + shown);
    }
    String plan = accr.ok("topology", "map", "-D", "halo-1", "--to", "mi300x8", "--relax",
        "caches", "--json");
    assertTrue(plan.contains("\"ok\": true") && plan.contains("\"targetId\""), plan);
    assertEquals(digest("m250", reference), digest("m100", pid));
  }

  @Test
  void kfdTrainMovesFromMi100ToMi250AndOnToMi300() throws Exception {
    String[] workload = {"kfd-train", "--gpus", "2", "--vram-mib", "2", "--steps", "200",
        "--seed", "7", "--trainable-fraction", "0.25", "--gpu-us-per-wg", "10"};
    String reference = start("m100", 0, workload);
    String pid = startMidRun("m100", workload);
    move(pid, dump("m100", pid, "train-1"), "m250", "capability,fw,caches");
    move(pid, unpaced(dump("m250", pid, "train-2"), pid), "m300", "caches");
    assertEquals(digest("m100", reference), digest("m300", pid));
  }

  @Test
  void restoresRefusedByTheMappingLeaveNothing() throws Exception {
    // Runs until it is killed: it outlives the refused restores however slow they are.
    String pid = startMidRun("m250", "kfd-halo", "--gpus", "2", "--vram-mib", "2", "--steps",
        "1000000");
    String images = dump("m250", pid, "halo-strict");
    Launcher.Result strict = accr.run("restore", "--node", "m300", "-D", images);
    assertEquals(4, strict.exitCode(), strict.err());
    assertTrue(strict.err().contains("cachesCount: image=4 target=292")
        && strict.err().strip().lines().count() == 1, strict.err());
    Launcher.Result forced = accr.run("restore", "--node", "m300", "-D", images, "--relax",
        "caches", "--device-map", "0x" + firstImageGpu(images) + "=0x1234");
    assertEquals(4, forced.exitCode(), forced.err());
    assertTrue(forced.err().contains("has no GPU 0x1234"), forced.err());
    assertFalse(accr.ok("ps", "--node", "m300").lines().anyMatch(l -> l.startsWith(pid + " ")));
    Launcher.Result unknown = accr.run("restore", "--node", "m300", "-D", images, "--relax",
        "cache");
    assertEquals(2, unknown.exitCode(), unknown.err());
    move(pid, images, "m300", "caches");
    assertTrue(accr.ok("ps", "--node", "m300").lines().anyMatch(l -> l.startsWith(pid + " ")));
    accr.ok("kill", "--node", "m300", "-t", pid);
  }

  /**
   * The CLI and node side of a lazy restore (the digests are proven by the engine's and kfd's
   * lazy restore tests): the process runs at once, ps tells how its pages came until all are
   * in, and it is ended explicitly.
   */
  @Test
  void kfdServeRestoredLazilyRunsAtOnceAndPsSaysHowItsPagesCame() throws Exception {
    String pid = start("m250", 50, "kfd-serve", "--gpus", "2", "--weights-mib", "4",
        "--kv-mib", "4", "--steps", "1000000");
    accr.ok("dump", "--node", "m250", "-t", pid, "-D", "lazy-images");
    String restored = accr.ok("restore", "--node", "m300", "-D", "lazy-images", "--relax",
        "caches", "--lazy", "--no-page-check");
    assertTrue(restored.contains("lazy: kfd VRAM blocks") && restored.contains("restored " + pid),
        restored);
    String ps = accr.ok("ps", "--node", "m300");
    for (long deadline = System.nanoTime() + 60_000_000_000L; !ps.contains("all in after")
        && System.nanoTime() < deadline; ps = accr.ok("ps", "--node", "m300")) {
      Thread.sleep(100);
    }
    Matcher m = LAZY_PS.matcher(ps);
    assertTrue(m.find(), ps);
    assertEquals(m.group(2), m.group(1), ps);
    assertEquals(Long.parseLong(m.group(1)), Long.parseLong(m.group(3))
        + Long.parseLong(m.group(4)), ps);
    assertEquals(m.group(6), m.group(5), ps);
    assertTrue(Long.parseLong(m.group(6)) > 0, ps);
    assertTrue(ps.contains(pid + " ") && ps.contains("running"), ps);
    accr.ok("kill", "--node", "m300", "-t", pid);
  }

  /** A GPU set (kfd-train's, kept in test-images) and a node without GPUs. */
  @Test
  void restoreOnANodeWithoutGpusIsIncompatible() throws Exception {
    Launcher.Result r = accr.run("restore", "--node", "cpu", "-D",
        TestSets.CHECKED_IN.resolve("v5").resolve("kfd-train").toString());
    assertEquals(4, r.exitCode(), r.err());
    assertTrue(r.err().contains("GPU") && r.err().strip().lines().count() == 1, r.err());
    assertEquals("", accr.ok("ps", "--node", "cpu").strip().lines()
        .filter(l -> l.matches("\\d+ .*")).reduce("", String::concat), "nothing restored");
  }

  /** Starts a workload and returns its pid. */
  private String start(String node, int stepDelayMs, String... workload) throws Exception {
    List<String> run = new ArrayList<>(List.of("run", "--node", node, "--step-delay-ms",
        String.valueOf(stepDelayMs)));
    run.addAll(List.of(workload));
    return accr.ok(run.toArray(String[]::new)).strip();
  }

  /**
   * Starts a workload slowed down to 150 ms a step (not part of its digest): with 200 steps it
   * runs for 30 s, more than the commands that dump and move it take on a busy machine (its
   * last leg runs {@link #unpaced}, so the test does not wait for them all).
   */
  private String startMidRun(String node, String... workload) throws Exception {
    String pid = start(node, 150, workload);
    Thread.sleep(300);
    return pid;
  }

  /** Waits for the process to end and returns the digest it printed. */
  private String digest(String node, String pid) throws Exception {
    return accr.ok("wait", "--node", node, "-t", pid).strip();
  }

  private String dump(String node, String pid, String images) throws Exception {
    accr.ok("dump", "--node", node, "-t", pid, "-D", images, "--compress", "zstd");
    return images;
  }

  /**
   * Makes the process of set {@code images} run its remaining steps without the pause (a field
   * of its core image), once restored for the last time: its last leg need not outlive any
   * command. Returns {@code images}.
   */
  private String unpaced(String images, String pid) throws Exception {
    ImageEdits.withoutStepDelay(tmp.resolve(images).resolve("core-" + pid + ".img"));
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

package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pre-dump -> dump --parent -> check -> restore, through {@code ./accr} and nodes, of a
 * process, of a process tree and of GPU processes (onto another preset); a restore tracks
 * writes for a later dump --parent only with --track-mem.
 */
class IncrementalIT {
  @TempDir static Path tmp;
  private static Launcher accr;

  /**
   * Nodes by name and topology: two presets with GPUs, one NUMA node and two, so that every
   * case restores onto another preset with the two node JVMs that start once for all cases.
   */
  private static final Map<String, String> NODES = new LinkedHashMap<>();

  static {
    NODES.put("a", "mi250x4");
    NODES.put("b", "mi300x8");
  }

  /** The nodes start (and stop) together: each is a JVM of its own that takes seconds. */
  @BeforeAll
  static void nodes() throws Exception {
    // Made private before the nodes start together: one of them creating it must not leave
    // the others a moment in which it is open to all.
    Files.createDirectories(tmp.resolve("run"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    accr = new Launcher(tmp.resolve("run"), tmp);
    together(NODES.entrySet().stream().map(n -> (Callable<String>) () -> accr.ok("node",
        "start", "--name", n.getKey(), "--topology", n.getValue())).toList());
  }

  @AfterAll
  static void stopNodes() throws Exception {
    together(NODES.keySet().stream().map(n -> (Callable<Launcher.Result>) () -> accr.run("node",
        "stop", "--name", n)).toList());
  }

  /** Runs {@code tasks} side by side; the first failure is thrown, the others suppressed. */
  private static <T> void together(List<Callable<T>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      Exception failed = null;
      for (Future<T> f : pool.invokeAll(tasks)) {
        try {
          f.get();
        } catch (ExecutionException e) {
          Exception cause = e.getCause() instanceof Exception x ? x : new Exception(e.getCause());
          if (failed == null) {
            failed = cause;
          } else {
            failed.addSuppressed(cause);
          }
        }
      }
      if (failed != null) {
        throw failed;
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * GPU chains, side by side: kfd-train (2 GPUs, trainable fraction) and kfd-halo, each
   * pre-dumped and dumped with the pre-dump as parent while dispatches run on mi250x4, then
   * restored from the last link on a node of another preset (mi300x8): the digest of an
   * uninterrupted run.
   */
  @Test
  void gpuChainsRestoreOnANodeOfAnotherPreset() throws Exception {
    together(List.<Callable<Void>>of(
        () -> gpuChain("train", "kfd-train", "--gpus", "2", "--vram-mib", "2", "--steps", "120",
            "--seed", "3", "--trainable-fraction", "0.25", "--gpu-us-per-wg", "5"),
        () -> gpuChain("halo", "kfd-halo", "--gpus", "2", "--vram-mib", "2", "--steps", "120",
            "--seed", "5", "--gpu-us-per-wg", "10")));
  }

  private static Void gpuChain(String name, String... workload) throws Exception {
    String ref = accr.ok(concat(new String[] {"run", "--node", "a"}, workload)).strip();
    // 120 steps of 300 ms: the process outlives the two dumps on a busy machine (its copy runs
    // the rest unpaced); small, so that its steps (and the reference's) cost the machine little.
    String pid = accr.ok(concat(new String[] {"run", "--node", "a", "--step-delay-ms",
        "300"}, workload)).strip();
    String pre = accr.ok("pre-dump", "--node", "a", "-t", pid, "-D", name + "-0");
    assertTrue(pre.contains("pre-dumped " + pid), pre);
    String dump = accr.ok("dump", "--node", "a", "-t", pid, "-D", name + "-1", "--parent",
        "../" + name + "-0");
    assertTrue(dump.contains("incremental") && dump.contains("dumped " + pid), dump);
    ImageEdits.withoutStepDelay(tmp.resolve(name + "-1").resolve("core-" + pid + ".img"));
    String restored = accr.ok("restore", "--node", "b", "-D", name + "-1", "--relax",
        "caches");
    assertTrue(restored.contains("restored " + pid) && restored.contains("  kfd 0x"), restored);
    assertEquals(accr.ok("wait", "--node", "a", "-t", ref).strip(),
        accr.ok("wait", "--node", "b", "-t", pid).strip(), name);
    return null;
  }

  @Test
  void aChainDumpedFromARunningProcessRestoresOnAnotherNode() throws Exception {
    String[] args = {"counter", "--mem-mib", "8", "--steps", "3000", "--seed", "9",
        "--pages-per-step", "8"};
    String ref = accr.ok(concat(new String[] {"run", "--node", "a"}, args, "--out",
        "ref.out")).strip();
    String expected = accr.ok("wait", "--node", "a", "-t", ref).strip();

    // 3000 steps of 10 ms: the process outlives the two commands on a busy machine.
    String pid = accr.ok(concat(new String[] {"run", "--node", "a", "--step-delay-ms", "10"},
        args, "--out", "cr.out")).strip();
    String pre = accr.ok("pre-dump", "--node", "a", "-t", pid, "-D", "l0");
    assertTrue(pre.contains("pre-dumped " + pid) && pre.contains("frozen"), pre);
    String dump = accr.ok("dump", "--node", "a", "-t", pid, "-D", "l1",
        "--prev-images-dir", "../l0", "--compress", "zstd");
    assertTrue(dump.contains("incremental"), dump);
    assertTrue(accr.ok("check", "l1").contains("OK"));
    // The copy runs its remaining steps without the pause.
    ImageEdits.withoutStepDelay(tmp.resolve("l1").resolve("core-" + pid + ".img"));

    accr.ok("restore", "--node", "b", "-D", "l1");
    assertEquals(expected, accr.ok("wait", "--node", "b", "-t", pid).strip());

    // A chain whose parent is gone: exit 3, one line naming the link.
    Files.move(tmp.resolve("l0"), tmp.resolve("l0-moved"));
    Launcher.Result r = accr.run("restore", "--node", "b", "-D", "l1");
    assertEquals(3, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("l1") && r.err().contains("../l0"), r.err());
  }

  /**
   * pipe-chain (a root, three stages, pipes, shared counters) pre-dumped and dumped --parent
   * while it runs; the chain restored without --track-mem refuses a dump --parent (one line),
   * restored with it gives a small dump --parent whose three-link chain ends with the
   * uninterrupted digest and output.
   */
  @Test
  void aTreeChainRestoresAndARestoreTracksWritesOnlyWithTrackMem() throws Exception {
    // 60 steps write at most 960 of each process's 2048 heap pages: a link after the first
    // stores less than half of it however long the commands below take.
    List<String> chain = List.of("pipe-chain", "--stages", "3", "--steps", "60", "--seed", "4",
        "--mem-mib", "8", "--out");
    String expected;
    try (Node node = Scenarios.node("reference")) {
      SimProcess root = node.create(chain.getFirst(), Stream.concat(chain.stream().skip(1),
          Stream.of(tmp.resolve("tree-ref.out").toString())).toList(), tmp, 0);
      expected = "digest: " + InlineTree.finish(node, root, false);
    }
    // 60 steps of 400 ms: the tree outlives the commands below on a busy machine.
    String pid = accr.ok(Stream.concat(Stream.of("run", "--node", "a", "--step-delay-ms", "400"),
        Stream.concat(chain.stream(), Stream.of("tree.out"))).toArray(String[]::new)).strip();
    assertTrue(accr.ok("pre-dump", "--node", "a", "-t", pid, "-D", "t0")
        .contains("pre-dumped " + pid));
    assertTrue(accr.ok("dump", "--node", "a", "-t", pid, "-D", "t1", "--parent", "../t0")
        .contains("incremental"));
    assertTrue(accr.ok("check", "t1").contains("OK"));

    accr.ok("restore", "--node", "a", "-D", "t1");
    Launcher.Result refused = accr.run("dump", "--node", "a", "-t", pid, "-D", "t2",
        "--parent", "../t1");
    assertEquals(1, refused.exitCode(), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());
    assertTrue(refused.err().contains("--track-mem"), refused.err());
    assertTrue(Files.notExists(tmp.resolve("t2").resolve("inventory.img")), "no set");
    accr.ok("kill", "--node", "a", "-t", pid);

    accr.ok("restore", "--node", "b", "-D", "t1", "--track-mem");
    assertTrue(accr.ok("dump", "--node", "b", "-t", pid, "-D", "t2", "--parent", "../t1")
        .contains("incremental"));
    long full = pagesBytes(tmp.resolve("t0"));
    long last = pagesBytes(tmp.resolve("t2"));
    assertTrue(last < full / 2, "the last link stores " + last + " of " + full + " bytes");
    // The copy runs its remaining steps without the pause.
    try (Stream<Path> cores = Files.list(tmp.resolve("t2"))) {
      for (Path core : cores.filter(f -> f.getFileName().toString().startsWith("core-"))
          .toList()) {
        ImageEdits.withoutStepDelay(core);
      }
    }
    accr.ok("restore", "--node", "b", "-D", "t2");
    assertEquals(expected, accr.ok("wait", "--node", "b", "-t", pid).strip());
    assertEquals(-1, Files.mismatch(tmp.resolve("tree-ref.out"), tmp.resolve("tree.out")));
  }

  private static long pagesBytes(Path set) throws Exception {
    try (Stream<Path> files = Files.list(set)) {
      return files.filter(f -> f.getFileName().toString().startsWith("pages-"))
          .mapToLong(f -> f.toFile().length()).sum();
    }
  }

  private static String[] concat(String[] head, String[] middle, String... tail) {
    String[] all = new String[head.length + middle.length + tail.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(middle, 0, all, head.length, middle.length);
    System.arraycopy(tail, 0, all, head.length + middle.length, tail.length);
    return all;
  }
}

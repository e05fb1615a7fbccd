package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between real node daemons on loopback TCP with mutual TLS, through
 * {@code ./accr}: processes moved cold, with pre-copy and post-copy, between nodes of one
 * preset and from mi250x4 to mi300x8, end with the digest of an uninterrupted run, and so do
 * trees (kfd-ddp, pipe-chain) moved with pre-copy, which post-copy refuses at once; a target
 * that dies during pre-copy or during the final copy, or has no GPUs, leaves the process
 * running on the source, and so does a set streamed to a node that dies, which leaves no set on
 * either side; a source that dies during post-copy has the target kill the process, saying so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigrateIT {
  private static final Path LAUNCHER = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();

  private Path tmp;
  private Launcher accr;
  private final List<Process> daemons = new ArrayList<>();
  private String a;
  private String b;
  private String c;
  private String cpuOnly;
  private String diesInPreCopy;
  private String diesInFinal;
  private String diesInDump;
  private String diesInPostCopy;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("tls", "init", "tls", "--node", "a", "--node", "b", "--node", "c", "--node", "d",
        "--node", "e", "--node", "f", "--node", "g", "--node", "h");
    a = serve("a", "mi250x4", "");
    b = serve("b", "mi250x4", "");
    c = serve("c", "mi300x8", "");
    cpuOnly = serve("d", "cpu-only", "");
    diesInPreCopy = serve("e", "mi250x4", "-Daccr.fault.haltAt=1:receive:r1/");
    diesInFinal = serve("f", "mi250x4", "-Daccr.fault.haltAt=1:receive:final/");
    diesInDump = serve("g", "mi250x4", "-Daccr.fault.haltAt=1:receive:cut/pages-");
    // Dies as it serves the 4th unit of memory: the process already runs on the target.
    diesInPostCopy = serve("h", "cpu-only", "-Daccr.fault.haltAt=4:serve:unit", true);
    for (String n : List.of("a", "b", "c", "d", "e", "f", "g", "h")) {
      awaitNode(n);
    }
    a = address(a);
    b = address(b);
    c = address(c);
    cpuOnly = address(cpuOnly);
    diesInPreCopy = address(diesInPreCopy);
    diesInFinal = address(diesInFinal);
    diesInDump = address(diesInDump);
    diesInPostCopy = address(diesInPostCopy);
  }

  /** NAME@HOST:PORT of node {@code name}: the free port it bound, named in its run directory. */
  private String address(String name) {
    String bound = new RunDirectory(tmp.resolve("run")).readTcpAddress(name);
    assertTrue(bound != null && bound.startsWith("127.0.0.1:"), name + ": " + bound);
    return name + "@" + bound;
  }

  /** Starts node {@code name} listening on a free loopback port with TLS; its name. */
  private String serve(String name, String topology, String javaOpts) throws Exception {
    return serve(name, topology, javaOpts, javaOpts.isEmpty());
  }

  private String serve(String name, String topology, String javaOpts, boolean sharedRoot)
      throws Exception {
    String address = name + "@127.0.0.1:0";
    // The live nodes share one image root, as nodes sharing storage would: the files a process
    // names (counter's output) resolve inside the target's root too. The targets that die have
    // their own, to show what they leave.
    Path root = Files.createDirectories(tmp.resolve(sharedRoot ? "root" : "root-" + name));
    ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "node", "serve", "--name", name,
        "--topology", topology, "--listen", address.substring(2), "--tls", "tls",
        "--images-root", root.toString()).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(name + ".log").toFile());
    pb.environment().put("ACCR_RUN_DIR", tmp.resolve("run").toString());
    pb.environment().put("ACCR_JAVA_OPTS", javaOpts);
    daemons.add(pb.start());
    return name;
  }

  private void awaitNode(String name) throws Exception {
    Path socket = new RunDirectory(tmp.resolve("run")).socket(name);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(Files.exists(socket) && NodeClient.isAlive(socket))) {
      assertTrue(System.nanoTime() < deadline, name + " did not answer: "
          + Files.readString(tmp.resolve(name + ".log")));
      Thread.sleep(20);
    }
  }

  @AfterAll
  void stopNodes() throws Exception {
    for (Process p : daemons) {
      p.destroy();
    }
    for (Process p : daemons) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private String on(String node, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(1, List.of("--node", node, "--tls", "tls"));
    return accr.ok(all.toArray(String[]::new)).strip();
  }

  private Launcher.Result tryOn(String node, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(1, List.of("--node", node, "--tls", "tls"));
    return accr.run(all.toArray(String[]::new));
  }

  /**
   * Starts {@code workload} on node a, the uninterrupted reference: paced a little (a digest
   * does not depend on timing), so that it leaves the node's threads to the requests.
   */
  private String reference(String... workload) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", "--step-delay-ms", "1"));
    args.addAll(List.of(workload));
    return on(a, args.toArray(String[]::new));
  }

  /**
   * Starts {@code workload} on node a slowed down (the delay is part of the process and goes
   * with it), long enough for a migration to find it running on a busy machine.
   */
  private String slow(String... workload) throws Exception {
    List<String> args = new ArrayList<>(List.of("run", "--step-delay-ms", "20"));
    args.addAll(List.of(workload));
    return on(a, args.toArray(String[]::new));
  }

  /**
   * One run for every case, so that the slowed-down processes (their delay goes with them)
   * all run at once: each lives long enough for its moves on a busy machine.
   */
  @Test
  void processesMoveWithTheirDigestAndFailuresLeaveThemRunningOnTheSource() throws Exception {
    // Long enough (60 s at the slowed pace) to live through the moves on a busy machine.
    String[] counter = {"counter", "--mem-mib", "8", "--steps", "3000", "--seed", "3"};
    String[] serve = {"kfd-serve", "--gpus", "2", "--steps", "3000", "--seed", "5"};
    String[] ddp = {"kfd-ddp", "--gpus", "2", "--vram-kib", "256", "--steps", "400", "--seed",
        "9", "--gpu-us-per-wg", "50"};
    String[] chain = {"pipe-chain", "--stages", "3", "--steps", "2000", "--seed", "4",
        "--mem-mib", "1"};
    String counterRef = reference(counter);
    String serveRef = reference(serve);
    String counterPid = slow(counter);
    String coldPid = slow(serve);
    String warmPid = slow(serve);

    // A set streamed whole into b's image store, checked there.
    String out;
    String whole = on(a, "dump", "-t", counterPid, "-D", "whole", "--to-node", b, "-R");
    assertTrue(whole.contains("dumped " + counterPid), whole);
    assertTrue(accr.ok("check", tmp.resolve("root/whole").toString()).contains(": OK"));

    out = on(a, "migrate", "-t", counterPid, "--to", b, "--small-round-mib", "0",
        "--max-rounds", "2");
    assertTrue(out.contains("migrated " + counterPid) && out.contains("pre-copy 0:")
        && out.contains("pre-copy 1:") && out.contains("downtime"), out);
    // Post-copy: it runs on at once on c, its memory following from b.
    out = on(b, "migrate", "-t", counterPid, "--to", c, "--lazy");
    assertTrue(out.contains("post-copy: host pages") && out.contains("pushed"), out);
    // mi250x4 to mi300x8: the caches count differs, as topology map explains.
    out = on(a, "migrate", "-t", coldPid, "--to", c, "--pre-copy-rounds", "0", "--relax",
        "caches", "--json");
    assertTrue(out.contains("\"kind\": \"final\"") && !out.contains("pre-copy")
        && out.contains("\"downtimeUs\""), out);
    out = on(a, "migrate", "-t", warmPid, "--to", b);
    assertTrue(out.contains("pre-copy 0:") && out.contains("kfd 0x"), out);
    // Post-copy of host memory and VRAM, from mi250x4 to mi300x8.
    out = on(b, "migrate", "-t", warmPid, "--to", c, "--lazy", "--relax", "caches", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("\"pagesFaulted\"")
        && out.contains("kfd VRAM"), out);

    String chainPid = slow(chain);
    // A GPU step costs more: fewer steps, each paced by 50 ms.
    List<String> slowDdp = new ArrayList<>(List.of("run", "--step-delay-ms", "50"));
    slowDdp.addAll(List.of(ddp));
    String ddpPid = on(a, slowDdp.toArray(String[]::new));
    // Trees: kfd-ddp (a launcher and a worker per GPU sharing dma-bufs) and pipe-chain.
    // Post-copy refuses a tree at once, before anything is stopped; pre-copy moves it whole.
    awaitChildren(chainPid, 3);
    out = on(a, "migrate", "-t", chainPid, "--to", c, "--small-round-mib", "0", "--max-rounds",
        "2");
    assertTrue(out.contains("migrated " + chainPid) && out.contains("pre-copy 1:"), out);
    awaitChildren(ddpPid, 2);
    Launcher.Result lazyTree = tryOn(a, "migrate", "-t", ddpPid, "--to", b, "--lazy");
    assertEquals(2, lazyTree.exitCode(), lazyTree.err());
    assertTrue(lazyTree.err().contains("tree of 3 processes")
        && lazyTree.err().strip().lines().count() == 1, lazyTree.err());
    out = on(a, "migrate", "-t", ddpPid, "--to", b);
    assertTrue(out.contains("migrated " + ddpPid) && out.contains("pre-copy 0:"), out);
    String ddpRef = reference(ddp);
    String chainRef = reference(chain);

    // The source dies during post-copy: the target kills the process and says why.
    String lost = on(diesInPostCopy, "run", "--step-delay-ms", "20", "counter", "--mem-mib",
        "8", "--steps", "1500");
    Launcher.Result died = tryOn(diesInPostCopy, "migrate", "-t", lost, "--to", cpuOnly,
        "--lazy");
    assertEquals(1, died.exitCode(), died.err());
    Launcher.Result killed = tryOn(cpuOnly, "wait", "-t", lost);
    assertEquals(1, killed.exitCode(), killed.out() + killed.err());
    assertTrue(killed.err().contains("killed") && killed.err().contains("lost node h"),
        killed.err());

    // Started for the failures only: it lives through them, then finishes on the source.
    String stayPid = slow(serve);
    Launcher.Result noGpus = tryOn(a, "migrate", "-t", stayPid, "--to", cpuOnly);
    assertEquals(4, noGpus.exitCode(), noGpus.err());
    assertTrue(noGpus.err().contains("kfd"), noGpus.err());
    Launcher.Result preCopy = tryOn(a, "migrate", "-t", stayPid, "--to", diesInPreCopy,
        "--small-round-mib", "0", "--max-rounds", "2");
    assertEquals(1, preCopy.exitCode(), preCopy.err());
    Launcher.Result last = tryOn(a, "migrate", "-t", stayPid, "--to", diesInFinal,
        "--pre-copy-rounds", "0");
    assertEquals(1, last.exitCode(), last.err());
    // A set streamed to a node that dies: no set on either side, the process runs on.
    Launcher.Result cut = tryOn(a, "dump", "-t", stayPid, "-D", "cut", "--to-node", diesInDump);
    assertEquals(1, cut.exitCode(), cut.err());
    assertTrue(Files.notExists(tmp.resolve("root-g/cut")), "no set on the target");
    assertTrue(Files.notExists(tmp.resolve("root/cut")), "no set on the source");
    assertTrue(tryOn(a, "ps").out().contains(stayPid + " "), "still running on the source");

    String expected = on(a, "wait", "-t", serveRef);
    assertEquals(on(a, "wait", "-t", counterRef), on(c, "wait", "-t", counterPid));
    assertEquals(expected, on(c, "wait", "-t", coldPid));
    assertEquals(expected, on(c, "wait", "-t", warmPid));
    assertEquals(expected, on(a, "wait", "-t", stayPid), "finished on the source");
    assertEquals(on(a, "wait", "-t", ddpRef), on(b, "wait", "-t", ddpPid));
    assertEquals(on(a, "wait", "-t", chainRef), on(c, "wait", "-t", chainPid));
    String left = tryOn(a, "ps").out();
    assertFalse(left.contains(counterPid + " ") || left.contains(coldPid + " ")
        || left.contains(warmPid + " "), "gone from the source: " + left);
    assertNoMigrationLeftOn();
  }

  /** Waits until the root {@code pid} on node a has forked {@code n} children. */
  private void awaitChildren(String pid, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (on(a, "ps").lines().skip(1).map(l -> l.strip().split("\\s+"))
        .filter(f -> f.length > 1 && f[1].equals(pid)).count() < n) {
      assertTrue(System.nanoTime() < deadline, pid + " did not fork its children");
      Thread.sleep(20);
    }
  }

  /** No set of a migration is left in the live nodes' image root. */
  private void assertNoMigrationLeftOn() throws IOException {
    Path area = tmp.resolve("root").resolve(".migrations");
    if (Files.exists(area)) {
      try (Stream<Path> left = Files.list(area)) {
        assertEquals(List.of(), left.toList());
      }
    }
  }
}

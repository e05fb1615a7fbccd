package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.ProgressListener;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import dev.accr.proto.WaitRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between real node daemons on loopback TCP with mutual TLS, through
 * {@code ./accr}: processes moved with pre-copy and post-copy (counter, kfd-serve, kfd-train,
 * kfd-halo), between nodes of one preset and from mi250x4 to mi300x8, and cold (counter), end
 * with the digest of an uninterrupted run, and so do
 * trees (pipe-chain and kfd-ddp, each with pre-copy and then post-copy); a target
 * that dies during pre-copy or during the final copy, or has no GPUs, leaves the process
 * running on the source, and so does a set streamed to a node that dies, which leaves no set on
 * either side; a source that dies during post-copy has the target kill the process, saying so.
 * The daemons are started once for all cases, and the cases run side by side.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MigrateIT {
  private static final Path LAUNCHER = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();

  private Path tmp;
  private Launcher accr;
  private final List<Process> daemons = new ArrayList<>();
  /** Each node's image root, where the processes it starts work. */
  private final Map<String, Path> roots = new ConcurrentHashMap<>();
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
    // Made private before the daemons start together: each checks it, and one of them creating
    // it must not leave the others a moment in which it is open to all.
    Files.createDirectories(tmp.resolve("run"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("tls", "init", "tls", "--node", "a", "--node", "b", "--node", "c", "--node", "d",
        "--node", "e", "--node", "f", "--node", "g", "--node", "h");
    a = serve("a", "mi250x4", "");
    b = serve("b", "mi250x4", "");
    c = serve("c", "mi300x8", "");
    // The nodes that only refuse, or die early, do little: the quick JIT starts them cheaper.
    cpuOnly = serve("d", "cpu-only", QUICK_JIT, true);
    diesInPreCopy = serve("e", "mi250x4", QUICK_JIT + " -Daccr.fault.haltAt=1:receive:r1/");
    diesInFinal = serve("f", "mi250x4", QUICK_JIT + " -Daccr.fault.haltAt=1:receive:final/");
    diesInDump = serve("g", "mi250x4", QUICK_JIT + " -Daccr.fault.haltAt=1:receive:cut/pages-");
    // Dies as it serves the 4th unit of memory: the process already runs on the target.
    diesInPostCopy = serve("h", "cpu-only",
        QUICK_JIT + " -Daccr.fault.haltAt=4:serve:unit", true);
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

  private static final String QUICK_JIT = "-XX:TieredStopAtLevel=1";

  private String serve(String name, String topology, String javaOpts, boolean sharedRoot)
      throws Exception {
    String address = name + "@127.0.0.1:0";
    // The live nodes share one image root, as nodes sharing storage would: the files a process
    // names (counter's output) resolve inside the target's root too. The targets that die have
    // their own, to show what they leave.
    Path root = Files.createDirectories(tmp.resolve(sharedRoot ? "root" : "root-" + name));
    roots.put(name, root);
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

  /** The slowed-down processes' pause between steps. */
  private static final int PACE_MS = 40;
  /**
   * The pause of the single processes moved, with {@link #STEPS} steps: 70 s of life, longer
   * than 1500 steps at {@link #PACE_MS}, with a third fewer steps to compute (theirs and their
   * references').
   */
  private static final int LONG_PACE_MS = 70;
  private static final String STEPS = "1000";

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
   * A client of node {@code name} in this JVM, over its local socket: starting, listing and
   * waiting for processes start no launcher (only the moves go through {@code ./accr}).
   */
  private NodeClient local(String node) {
    return NodeClient.of(nodeName(node), new RunDirectory(tmp.resolve("run")));
  }

  private static String nodeName(String address) {
    return address.substring(0, address.indexOf('@'));
  }

  /** Starts {@code workload} on {@code node}, paced by {@code delayMs}; its pid. */
  private String start(String node, int delayMs, String... workload) {
    return String.valueOf(local(node).call(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload(workload[0]).addAllArgs(List.of(workload).subList(1, workload.length))
        .setStepDelayMs(delayMs).setCwd(roots.get(nodeName(node)).toString())).build(),
        ProgressListener.NONE).getRun().getPid());
  }

  /** Waits for process {@code pid} on {@code node} to end; its digest. */
  private String digest(String node, String pid) {
    return local(node).call(Request.newBuilder().setWait(WaitRequest.newBuilder()
        .setPid(Integer.parseInt(pid))).build(), ProgressListener.NONE).getWait().getDigest();
  }

  /** The processes on {@code node}. */
  private List<ProcessInfo> ps(String node) {
    return local(node).call(Request.newBuilder().setPs(PsRequest.getDefaultInstance()).build(),
        ProgressListener.NONE).getPs().getProcessesList();
  }

  /**
   * Starts {@code workload} on node a, the uninterrupted reference: paced a little (a digest
   * does not depend on timing), so that it leaves the node's threads to the requests.
   */
  private String reference(String... workload) {
    return start(a, 1, workload);
  }

  /**
   * Starts {@code workload} on node a slowed down (the delay is part of the process and goes
   * with it), long enough for a migration to find it running on a busy machine.
   */
  private String slow(String... workload) {
    return start(a, PACE_MS, workload);
  }

  /** {@link #slow}, each step further apart: as long a life with fewer steps. */
  private String paced(String... workload) {
    return start(a, LONG_PACE_MS, workload);
  }

  /**
   * Every case at once, each on its own lane (a thread driving one process through its moves,
   * then checking its digest): the slowed-down processes (their delay goes with them) all run
   * side by side, each long enough for its moves on a busy machine, so the test lasts about as
   * long as the slowest lane rather than the sum of them.
   */
  @Test
  void processesMoveWithTheirDigestAndFailuresLeaveThemRunningOnTheSource() throws Exception {
    // Long enough (70 s at the slowed pace) to live through the moves of a lane on a busy
    // machine, and small: every move of their memory costs the machine's time, and every step
    // (of them and of their references) its own.
    String[] counter = {"counter", "--mem-mib", "4", "--steps", STEPS, "--seed", "3"};
    String[] serve = {"kfd-serve", "--gpus", "2", "--weights-mib", "2", "--kv-mib", "2",
        "--steps", STEPS, "--seed", "5"};
    String[] ddp = {"kfd-ddp", "--gpus", "2", "--vram-kib", "256", "--steps", "400", "--seed",
        "9", "--gpu-us-per-wg", "50"};
    String[] chain = {"pipe-chain", "--stages", "3", "--steps", "1200", "--seed", "4",
        "--mem-mib", "1"};
    // kfd-train rewrites all its VRAM every step (no pre-copy round shrinks); kfd-halo trades
    // halos between its GPUs' buffers every step.
    String[] train = {"kfd-train", "--gpus", "2", "--vram-mib", "2", "--steps", STEPS, "--seed",
        "7"};
    String[] halo = {"kfd-halo", "--gpus", "2", "--vram-mib", "2", "--steps", STEPS, "--seed",
        "8"};
    Digest counterRef = new Digest(reference(counter));
    Digest serveRef = new Digest(reference(serve));
    Digest ddpRef = new Digest(reference(ddp));
    Digest chainRef = new Digest(reference(chain));
    Digest trainRef = new Digest(reference(train));
    Digest haloRef = new Digest(reference(halo));
    List<Callable<Void>> lanes = List.of(
        () -> counterMoves(counter, counterRef),
        () -> serveMoves(serve, serveRef),
        () -> treeMoves(chain, chainRef),
        () -> ddpMoves(ddp, ddpRef),
        () -> trainMoves(train, trainRef),
        () -> haloMoves(halo, haloRef),
        this::sourceDiesInPostCopy,
        () -> refusedOrLostBeforeTheStop(serve, serveRef),
        () -> lostDuringTheCopy(serve, serveRef));
    ExecutorService pool = Executors.newFixedThreadPool(lanes.size());
    try {
      List<Future<Void>> done = new ArrayList<>();
      for (Callable<Void> lane : lanes) {
        done.add(pool.submit(lane));
      }
      AssertionError failed = null;
      for (Future<Void> f : done) {
        try {
          f.get();
        } catch (ExecutionException e) {
          if (failed == null) {
            failed = new AssertionError(e.getCause().getMessage(), e.getCause());
          } else {
            failed.addSuppressed(e.getCause());
          }
        }
      }
      if (failed != null) {
        throw failed;
      }
    } finally {
      pool.shutdownNow();
    }
    assertNoMigrationLeftOn();
  }

  /** The digest of a reference process on node a, asked for once (a wait reaps it). */
  private final class Digest {
    private final String pid;
    private String digest;

    Digest(String pid) {
      this.pid = pid;
    }

    synchronized String get() throws Exception {
      if (digest == null) {
        digest = digest(a, pid);
      }
      return digest;
    }
  }

  /** counter: moved a to b with pre-copy, b to c with post-copy, then c to a cold. */
  private Void counterMoves(String[] counter, Digest ref) throws Exception {
    String pid = paced(counter);
    String out = on(a, "migrate", "-t", pid, "--to", b, "--small-round-mib", "0",
        "--max-rounds", "2");
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 0:")
        && out.contains("pre-copy 1:") && out.contains("downtime"), out);
    assertTrue(out.contains("2 pre-copy rounds were loaded on " + b + " ahead of the stop"),
        out);
    // Post-copy: it runs on at once on c, its memory following from b.
    out = on(b, "migrate", "-t", pid, "--to", c, "--lazy");
    assertTrue(out.contains("post-copy: host pages") && out.contains("pushed"), out);
    // Cold: one stop, everything sent in it.
    out = on(c, "migrate", "-t", pid, "--to", a, "--pre-copy-rounds", "0", "--json");
    assertTrue(out.contains("\"kind\": \"final\"") && !out.contains("pre-copy")
        && out.contains("\"downtimeUs\""), out);
    assertFalse(ps(c).stream().anyMatch(p -> p.getPid() == Integer.parseInt(pid)),
        "gone from c");
    assertEquals(ref.get(), digest(a, pid));
    return null;
  }

  /**
   * kfd-serve streamed whole into b's image store (checked there), then moved a to b (one
   * preset) with pre-copy and b to c (mi300x8) with post-copy: the caches count differs, as
   * topology map explains.
   */
  private Void serveMoves(String[] serve, Digest ref) throws Exception {
    String pid = paced(serve);
    String whole = on(a, "dump", "-t", pid, "-D", "whole", "--to-node", b, "-R");
    assertTrue(whole.contains("dumped " + pid), whole);
    assertTrue(accr.ok("check", tmp.resolve("root/whole").toString()).contains(": OK"));
    String out = on(a, "migrate", "-t", pid, "--to", b);
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 0:"), out);
    out = on(b, "migrate", "-t", pid, "--to", c, "--lazy", "--relax", "caches", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("kfd VRAM"), out);
    assertEquals(ref.get(), digest(c, pid));
    assertGoneFromA(pid);
    return null;
  }

  /**
   * kfd-train, whose every step rewrites all its VRAM, moved a to b (one preset) with pre-copy,
   * then b to c (mi300x8) with post-copy, its VRAM following on first touch.
   */
  private Void trainMoves(String[] train, Digest ref) throws Exception {
    String pid = paced(train);
    String out = on(a, "migrate", "-t", pid, "--to", b);
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 0:"), out);
    out = on(b, "migrate", "-t", pid, "--to", c, "--lazy", "--relax", "caches", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("kfd VRAM"), out);
    assertEquals(ref.get(), digest(c, pid));
    assertGoneFromA(pid);
    return null;
  }

  /**
   * kfd-halo moved a to b (one preset) with post-copy, then b to c (mi300x8) with pre-copy.
   */
  private Void haloMoves(String[] halo, Digest ref) throws Exception {
    String pid = paced(halo);
    String out = on(a, "migrate", "-t", pid, "--to", b, "--lazy", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("kfd VRAM"), out);
    out = on(b, "migrate", "-t", pid, "--to", c, "--relax", "caches");
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 0:"), out);
    assertEquals(ref.get(), digest(c, pid));
    assertGoneFromA(pid);
    return null;
  }

  /**
   * pipe-chain, a tree of four processes joined by pipes, moved whole with pre-copy from a to
   * c, then with post-copy from c to b: the tree runs on b at once, each process's host pages
   * following from c, and ends there (as {@code accr wait} on b says) with the uninterrupted
   * digest.
   */
  private Void treeMoves(String[] chain, Digest ref) throws Exception {
    String pid = slow(chain);
    awaitChildren(pid, 3);
    String out = on(a, "migrate", "-t", pid, "--to", c, "--small-round-mib", "0",
        "--max-rounds", "2");
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 1:"), out);
    out = on(c, "migrate", "-t", pid, "--to", b, "--lazy", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("\"pagesFaulted\""), out);
    assertFalse(ps(c).stream().anyMatch(p -> p.getPid() == Integer.parseInt(pid)),
        "gone from c once b had it all");
    assertEquals("digest: " + ref.get(), on(b, "wait", "-t", pid));
    return null;
  }

  /**
   * kfd-ddp (a launcher and a worker per GPU sharing dma-bufs) moved whole from a to b with
   * pre-copy, then back with post-copy: the tree runs on a at once, every process's host pages
   * and VRAM following on one link from b, which lets its copy go once a has it all.
   */
  private Void ddpMoves(String[] ddp, Digest ref) throws Exception {
    // A GPU step costs more: fewer steps, each paced by 50 ms.
    String pid = start(a, 50, ddp);
    awaitChildren(pid, 2);
    String out = on(a, "migrate", "-t", pid, "--to", b);
    assertTrue(out.contains("migrated " + pid) && out.contains("pre-copy 0:"), out);
    out = on(b, "migrate", "-t", pid, "--to", a, "--lazy", "--json");
    assertTrue(out.contains("\"postCopy\"") && out.contains("\"pagesFaulted\"")
        && out.contains("kfd VRAM"), out);
    assertFalse(ps(b).stream().anyMatch(p -> p.getPid() == Integer.parseInt(pid)),
        "gone from b once a had it all");
    assertEquals(ref.get(), digest(a, pid));
    return null;
  }

  /** The source dies during post-copy: the target kills the process and says why. */
  private Void sourceDiesInPostCopy() throws Exception {
    // Its own output file: node a's first counter has the same pid in the same root.
    String lost = start(diesInPostCopy, LONG_PACE_MS, "counter", "--mem-mib", "8", "--steps",
        STEPS, "--out", "lost-counter.out");
    Launcher.Result died = tryOn(diesInPostCopy, "migrate", "-t", lost, "--to", cpuOnly,
        "--lazy");
    assertEquals(1, died.exitCode(), died.err());
    Launcher.Result killed = tryOn(cpuOnly, "wait", "-t", lost);
    assertEquals(1, killed.exitCode(), killed.out() + killed.err());
    assertTrue(killed.err().contains("killed") && killed.err().contains("lost node h"),
        killed.err());
    return null;
  }

  /**
   * A target without GPUs and a target that dies during pre-copy: the process runs on and
   * finishes on the source.
   */
  private Void refusedOrLostBeforeTheStop(String[] serve, Digest ref) throws Exception {
    String pid = paced(serve);
    Launcher.Result noGpus = tryOn(a, "migrate", "-t", pid, "--to", cpuOnly);
    assertEquals(4, noGpus.exitCode(), noGpus.err());
    assertTrue(noGpus.err().contains("kfd"), noGpus.err());
    Launcher.Result preCopy = tryOn(a, "migrate", "-t", pid, "--to", diesInPreCopy,
        "--small-round-mib", "0", "--max-rounds", "2");
    assertEquals(1, preCopy.exitCode(), preCopy.err());
    assertEquals(ref.get(), digest(a, pid), "finished on the source");
    return null;
  }

  /**
   * A target that dies during the final copy, and a set streamed to a node that dies: the
   * process runs on and finishes on the source, and no set is left on either side.
   */
  private Void lostDuringTheCopy(String[] serve, Digest ref) throws Exception {
    String pid = paced(serve);
    Launcher.Result last = tryOn(a, "migrate", "-t", pid, "--to", diesInFinal,
        "--pre-copy-rounds", "0");
    assertEquals(1, last.exitCode(), last.err());
    Launcher.Result cut = tryOn(a, "dump", "-t", pid, "-D", "cut", "--to-node", diesInDump);
    assertEquals(1, cut.exitCode(), cut.err());
    assertTrue(Files.notExists(tmp.resolve("root-g/cut")), "no set on the target");
    assertTrue(Files.notExists(tmp.resolve("root/cut")), "no set on the source");
    assertTrue(tryOn(a, "ps").out().lines().map(l -> l.strip().split("\\s+"))
        .anyMatch(f -> f[0].equals(pid)), "still running on the source");
    assertEquals(ref.get(), digest(a, pid), "finished on the source");
    return null;
  }

  private void assertGoneFromA(String pid) {
    assertFalse(ps(a).stream().anyMatch(p -> p.getPid() == Integer.parseInt(pid)),
        "gone from the source: " + pid);
  }

  /** Waits until the root {@code pid} on node a has forked {@code n} children. */
  private void awaitChildren(String pid, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (ps(a).stream().filter(p -> p.getPpid() == Integer.parseInt(pid)).count() < n) {
      assertTrue(System.nanoTime() < deadline, pid + " did not fork its children");
      Thread.sleep(50);
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

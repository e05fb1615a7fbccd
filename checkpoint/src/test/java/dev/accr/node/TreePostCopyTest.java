package dev.accr.node;

import static dev.accr.node.InProcessNodes.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.LazyPagesInfo;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import dev.accr.proto.Topology;
import dev.accr.proto.WaitRequest;
import dev.accr.workload.PipeChainWorkload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Post-copy migration of a process tree (pipe-chain: a root and three stages sharing pipes and
 * a page of counters) between two in-process nodes on UNIX sockets: the tree runs on the target
 * at once, every process's memory following on one connection, and ends with the digest of an
 * uninterrupted run, gone from the source; a source that falls silent midway (a host gone) has
 * the target kill every process of the tree, saying why, within the silence limit.
 */
class TreePostCopyTest {
  /** Short enough to find a silent source soon, long enough for a busy machine's pauses. */
  private static final LinkWatch.Timing FAST =
      new LinkWatch.Timing(Duration.ofMillis(50), Duration.ofMillis(1500));
  private static final int STAGES = 3;

  @TempDir Path tmp;
  private final Registry registry = Registry.of(List.of(), List.of(),
      List.of(new PipeChainWorkload()));
  private InProcessNodes nodes;
  private RunDirectory run;
  private Path root;
  private NodeService a;
  private NodeService b;
  private PostCopyLinkTest.SilentProxy proxy;

  @BeforeEach
  void start() throws Exception {
    nodes = new InProcessNodes(registry, tmp);
    run = nodes.run();
    root = nodes.root();
    a = serve("a", registry.topologies().load("cpu-only"));
    b = serve("b", registry.topologies().load("cpu-only"));
    proxy = nodes.alsoClose(new PostCopyLinkTest.SilentProxy(run.socket("p"), run.socket("b")));
  }

  private NodeService serve(String name, Topology topology) throws IOException {
    return nodes.serve(name, topology, s -> s.withPostCopyTiming(FAST));
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
  }

  /** A chain on node a, paced by {@code delayMs} a step; its pid once every stage is forked. */
  private int chain(int delayMs, long steps, int mib, String out) throws InterruptedException {
    int pid = call(a, Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload("pipe-chain").addAllArgs(List.of("--stages", "" + STAGES, "--steps",
            "" + steps, "--seed", "6", "--mem-mib", "" + mib, "--out",
            root.resolve(out).toString()))
        .setCwd(root.toString()).setStepDelayMs(delayMs)).build()).getRun().getPid();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (tree(a, pid).size() < STAGES + 1) {
      assertTrue(System.nanoTime() < deadline, "the stages were not forked");
      Thread.sleep(5);
    }
    return pid;
  }

  /** The processes of the tree rooted at {@code pid} that have not ended. */
  private static List<SimProcess> tree(NodeService s, int pid) {
    return s.node().processes().stream().filter(p -> p.pid() == pid || p.ppid() == pid)
        .filter(p -> p.state() != SimProcess.State.EXITED).toList();
  }

  private static String waitFor(NodeService s, int pid) {
    return call(s, Request.newBuilder().setWait(WaitRequest.newBuilder().setPid(pid)).build())
        .getWait().getDigest();
  }

  @Test
  void aTreeMovedPostCopyEndsWithTheDigestOfAnUninterruptedRun() throws Exception {
    long steps = 60;
    String expected = waitFor(a, chain(0, steps, 2, "plain.out"));
    // 25 ms a step: it runs for seconds (slower on a busy machine, as the move is), the move
    // of its 8 MiB takes a fraction of one.
    int pid = chain(25, steps, 2, "moved.out");
    MigrateReply reply = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> call(a, Request.newBuilder().setMigrate(MigrateRequest.newBuilder().setPid(pid)
            .setToNode("b").setLazy(true)).build()).getMigrate());
    LazyPagesInfo figures = reply.getPostCopy();
    assertTrue(figures.getDone() && figures.getPagesTotal() >= (STAGES + 1) * 256L,
        "every process's heap came over the one link: " + figures);
    assertEquals(figures.getPagesTotal(), figures.getPagesFaulted() + figures.getPagesPushed(),
        figures.toString());
    assertTrue(tree(a, pid).isEmpty(), "the tree is gone from the source");
    // The index goes before the set's commit, the target's start waits for Go, and the
    // phases add up to the downtime.
    List<String> phases = reply.getDowntimePhasesList().stream()
        .map(PhaseTimeEntry::getPhase).toList();
    assertTrue(phases.indexOf("index") >= 0 && phases.indexOf("index") < phases.indexOf("sync")
        && phases.contains("target wait"), phases.toString());
    long sum = reply.getDowntimePhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs)
        .sum();
    assertTrue(Math.abs(sum - reply.getDowntimeUs()) <= 1000,
        sum + " µs of phases for a downtime of " + reply.getDowntimeUs() + " µs");
    assertEquals(expected, waitFor(b, pid));
    assertEquals(Files.readString(root.resolve("plain.out")),
        Files.readString(root.resolve("moved.out")));
  }

  @Test
  void aSourceThatFallsSilentMidPostCopyHasTheTargetKillTheWholeTree() throws Exception {
    int pid = chain(20, 100_000, 4, "lost.out");
    List<Integer> pids = tree(a, pid).stream().map(SimProcess::pid).toList();
    // Mid-memory: of its 16 MiB, the restore takes about 5 (what the processes' checks touch
    // and the page the tree shares), so the tree runs on b when the link falls silent.
    proxy.silenceAfter(9 << 20);
    AccrException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> assertThrows(AccrException.class, () -> call(a, Request.newBuilder()
            .setMigrate(MigrateRequest.newBuilder().setPid(pid).setToNode("p").setLazy(true))
            .build())));
    assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
    // wait -t ROOT says why, whichever process met the loss first (the root's own step, a
    // stage's, the pusher); the others' end is that they run no more.
    SimProcess rootThere = b.node().processes().stream().filter(q -> q.pid() == pid)
        .findFirst().orElseThrow(() -> new AssertionError("the tree was not restored on b: "
            + e.getMessage()));
    ExecutionException killed = assertThrows(ExecutionException.class,
        () -> rootThere.exitFuture().get(30, TimeUnit.SECONDS));
    String why = killed.getCause().getMessage();
    assertTrue(why.contains("killed") && why.contains("lost node"), why);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (b.node().processes().stream().anyMatch(q -> pids.contains(q.pid())
        && q.state() != SimProcess.State.EXITED)) {
      assertTrue(System.nanoTime() < deadline, "a process of the tree still runs on b: "
          + b.node().processes());
      Thread.sleep(10);
    }
  }
}

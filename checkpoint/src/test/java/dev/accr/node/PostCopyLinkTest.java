package dev.accr.node;

import static dev.accr.node.InProcessNodes.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Registry;
import dev.accr.proto.CpuNode;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.PostCopyRequest;
import dev.accr.proto.Request;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunRequest;
import dev.accr.proto.Topology;
import dev.accr.proto.WaitRequest;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Migrations between two in-process nodes on UNIX sockets, the target reached through a proxy
 * that can fall silent without closing anything (a host gone, a cable cut): a post-copy whose
 * source stops answering ends on both sides within the silence limit, the target killing the
 * process and saying why; a client that opens a post-copy and sends nothing is let go; the
 * target's check (memory) refuses a cold or post-copy migration before anything is stopped.
 */
class PostCopyLinkTest {
  private static final LinkWatch.Timing FAST =
      new LinkWatch.Timing(Duration.ofMillis(50), Duration.ofMillis(600));

  @TempDir Path tmp;
  private final Registry registry = Registry.of(List.of(), List.of(),
      List.of(new CounterWorkload()));
  private InProcessNodes nodes;
  private RunDirectory run;
  private Path root;
  private NodeService a;
  private NodeService b;
  private SilentProxy proxy;

  @BeforeEach
  void start() throws Exception {
    nodes = new InProcessNodes(registry, tmp);
    run = nodes.run();
    root = nodes.root();
    a = serve("a", registry.topologies().load("cpu-only"));
    b = serve("b", registry.topologies().load("cpu-only"));
    proxy = nodes.alsoClose(new SilentProxy(run.socket("p"), run.socket("b")));
  }

  private NodeService serve(String name, Topology topology) throws IOException {
    return nodes.serve(name, topology, s -> s.withPostCopyTiming(FAST));
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
  }

  private int runOn(NodeService s, String workload, int delayMs, String... args) {
    return call(s, Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload(workload)
        .addAllArgs(List.of(args)).setCwd(root.toString()).setStepDelayMs(delayMs)).build())
        .getRun().getPid();
  }

  /** A counter on node a with its 8 MiB all touched, stepping slowly. */
  private int counterWithItsMemory() throws InterruptedException {
    int pid = runOn(a, "counter", 20, "--mem-mib", "8", "--pages-per-step", "512", "--steps",
        "100000", "--out", root.resolve("c.out").toString());
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (a.node().process(pid).memory().residentPages() < 2048) {
      assertTrue(System.nanoTime() < deadline, "the counter did not touch its memory");
      Thread.sleep(10);
    }
    return pid;
  }

  private static AccrException migrateFails(NodeService s, MigrateRequest.Builder r) {
    try {
      call(s, Request.newBuilder().setMigrate(r).build());
    } catch (AccrException e) {
      return e;
    }
    throw new AssertionError("the migration succeeded");
  }

  private static String waitFor(NodeService s, int pid) {
    return call(s, Request.newBuilder().setWait(WaitRequest.newBuilder().setPid(pid)).build())
        .getWait().getDigest();
  }

  private static String state(NodeService s, int pid) {
    return s.node().processes().stream().filter(p -> p.pid() == pid)
        .map(p -> p.state().name()).findFirst().orElse("gone");
  }

  @Test
  void aSourceThatFallsSilentMidPostCopyIsLostOnBothSidesWithinTheLimit() throws Exception {
    int pid = counterWithItsMemory();
    proxy.silenceAfter(3 << 20); // mid-memory: the process already runs on b
    AccrException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
        () -> migrateFails(a, MigrateRequest.newBuilder().setPid(pid).setToNode("p")
            .setLazy(true)));
    assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains("nothing came from it"), e.getMessage());
    int there = b.node().processes().getFirst().pid();
    AccrException killed = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
      try {
        waitFor(b, there);
      } catch (AccrException k) {
        return k;
      }
      throw new AssertionError("the process on the target was not killed");
    });
    assertTrue(killed.getMessage().contains("lost node")
        && killed.getMessage().contains("nothing came from it"), killed.getMessage());
  }

  @Test
  void aPostCopyClientThatSendsNothingIsLetGo() throws Exception {
    NodeClient client = NodeClient.of("b", run);
    try (NodeClient.Connection c = client.open()) {
      Request.newBuilder().setPostCopy(PostCopyRequest.newBuilder()
          .setMigration("0123456789abcdef0123456789abcdef")
          .setRestore(RestoreRequest.getDefaultInstance())).build().writeDelimitedTo(c.out());
      c.out().flush();
      assertTrue(client.read(c.in(), true).getPostCopy().getReady());
      long t0 = System.nanoTime();
      int heartbeats = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
        int n = 0;
        try {
          while (c.in().read() == PageFrames.HEARTBEAT) {
            n++;
          }
        } catch (IOException closed) {
          // closed by the node, as the end of the stream
        }
        return n;
      });
      assertTrue(heartbeats > 0, "the node sent heartbeats while it waited");
      assertTrue(System.nanoTime() - t0 >= FAST.silence().toNanos() / 2,
          "let go only after the silence limit");
    }
  }

  @Test
  void theTargetsCheckRefusesColdAndPostCopyMigrationsBeforeAnythingStops() throws Exception {
    Topology small = registry.topologies().load("cpu-only").toBuilder().clearCpus()
        .addCpus(CpuNode.newBuilder().setNode(0).setCores(4).setMemoryBytes(4L << 20)).build();
    serve("small", small);
    int pid = counterWithItsMemory();
    for (boolean lazy : new boolean[] {false, true}) {
      AccrException e = migrateFails(a, MigrateRequest.newBuilder().setPid(pid)
          .setToNode("small").setLazy(lazy).setMaxRounds(0));
      assertEquals(AccrException.INCOMPATIBLE, e.exitCode(), e.getMessage());
      // The probe's check, not a restore's: the set the target read held no memory.
      assertTrue(e.getMessage().contains("the process needs 8 MiB of memory"), e.getMessage());
      assertEquals("RUNNING", state(a, pid));
    }
    call(a, Request.newBuilder().setKill(dev.accr.proto.KillRequest.newBuilder().setPid(pid))
        .build());
  }

  /**
   * A UNIX-socket proxy to a node: each connection is forwarded both ways until one has sent
   * {@link #silenceAfter} bytes towards the node; then it forwards nothing more either way and
   * closes nothing, as a peer that vanished.
   */
  static final class SilentProxy implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path to;
    private final AtomicLong limit = new AtomicLong(Long.MAX_VALUE);
    private final List<SocketChannel> channels = new ArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    SilentProxy(Path at, Path to) throws IOException {
      this.to = to;
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(at));
      Thread.ofVirtual().start(this::accept);
    }

    void silenceAfter(long bytes) {
      limit.set(bytes);
    }

    private void accept() {
      try {
        while (true) {
          SocketChannel in = server.accept();
          SocketChannel out = SocketChannel.open(UnixDomainSocketAddress.of(to));
          synchronized (channels) {
            channels.add(in);
            channels.add(out);
          }
          AtomicLong sent = new AtomicLong();
          AtomicBoolean silent = new AtomicBoolean();
          Thread.ofVirtual().start(() -> pump(Channels.newInputStream(in),
              Channels.newOutputStream(out), sent, silent));
          Thread.ofVirtual().start(() -> pump(Channels.newInputStream(out),
              Channels.newOutputStream(in), null, silent));
        }
      } catch (IOException closed) {
        // the proxy stops
      }
    }

    private void pump(InputStream from, OutputStream to, AtomicLong counted,
        AtomicBoolean silent) {
      byte[] buffer = new byte[8192];
      try {
        for (int n; (n = from.read(buffer)) >= 0; ) {
          if (counted != null && counted.addAndGet(n) > limit.get()) {
            silent.set(true);
          }
          if (silent.get()) {
            // Gone quiet: hold everything, read nothing more, close nothing.
            closed.await();
            return;
          }
          to.write(buffer, 0, n);
        }
      } catch (IOException | InterruptedException ended) {
        // the proxy stops
      }
    }

    @Override
    public void close() throws IOException {
      closed.countDown();
      server.close();
      synchronized (channels) {
        for (SocketChannel c : channels) {
          c.close();
        }
      }
    }
  }
}

package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ServedMemory;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.PostCopyIndex;
import dev.accr.proto.PostCopyReply;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.testkit.Scenarios;
import dev.accr.workload.CounterWorkload;
import dev.accr.workload.PipeChainWorkload;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The source's end of a post-copy as a target sees it on the wire: the units the index calls
 * eager follow it unasked only to a target that says it takes them (an older target asks for
 * every unit it needs, and would otherwise get those twice), and a tree's other processes'
 * small mappings are eager too.
 */
class PageServerTest {
  private static final String MIGRATION = "0123456789abcdef0123456789abcdef";

  @TempDir Path tmp;
  private final Registry registry = Registry.of(List.of(), List.of(),
      List.of(new CounterWorkload(), new PipeChainWorkload()));
  private Node node;
  private RunDirectory run;
  private ServerSocketChannel target;

  /** What the target saw: the index, and the units that came before the one it asked for. */
  private record Seen(PostCopyIndex index, int asked, List<Integer> unasked) {}

  @BeforeEach
  void start() throws IOException {
    node = new Node("a", registry.topologies().load("cpu-only"), registry);
    run = new RunDirectory(tmp.resolve("run")).create();
    target = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    target.bind(UnixDomainSocketAddress.of(run.socket("b")));
  }

  @AfterEach
  void stop() throws IOException {
    target.close();
    node.close();
  }

  @ParameterizedTest(name = "target takes eager units: {0}")
  @ValueSource(booleans = {true, false})
  void eagerUnitsGoUnaskedOnlyToATargetThatSaysItTakesThem(boolean takes) throws Exception {
    SimProcess p = node.create("counter", List.of("--mem-mib", "4", "--steps", "30",
        "--pages-per-step", "48"), tmp, 0);
    Scenarios.step(p, 9);
    try (ServedMemory served = dump(p)) {
      List<Integer> eager = served.eagerUnits();
      assertTrue(!eager.isEmpty() && eager.size() < served.hostUnits().size(),
          "eager units: " + eager);
      Seen seen = offer(served, takes);
      if (takes) {
        assertEquals(eager, eagerOf(seen.index()));
        assertEquals(eager, seen.unasked(), "the eager units, unasked, before unit "
            + seen.asked());
      } else {
        assertEquals(List.of(), eagerOf(seen.index()));
        assertEquals(List.of(), seen.unasked(), "nothing before unit " + seen.asked());
      }
    }
  }

  @Test
  void aTreesOtherProcessesSmallMappingsAreEagerUnitsToo() throws Exception {
    Files.createDirectories(tmp.resolve("chain"));
    SimProcess root = node.create("pipe-chain", List.of("--stages", "3", "--steps", "12",
        "--seed", "11", "--mem-mib", "1", "--out", tmp.resolve("chain/out").toString()),
        tmp.resolve("chain"), 0);
    Scenarios.step(node, root, 3);
    try (ServedMemory served = dump(root)) {
      Seen seen = offer(served, true);
      PostCopyIndex index = seen.index();
      List<Integer> others = seen.unasked().stream()
          .filter(u -> index.getHostUnits(u).getPid() != index.getPid()).toList();
      assertTrue(others.size() >= 3, "each stage's small mappings come unasked: "
          + seen.unasked() + " of " + index.getHostUnitsCount());
      assertEquals(served.eagerUnits(), seen.unasked());
      assertEquals(served.eagerUnits(), eagerOf(index));
    }
  }

  private ServedMemory dump(SimProcess p) throws IOException {
    ServedMemory served = new ServedMemory();
    new Dumper(node, PluginHost.of(node.registry().plugins())).servingMemory(served).dump(
        p.pid(), tmp.resolve("meta-" + p.pid()), DumpOptions.defaults().withLeaveStopped(true),
        ProgressListener.NONE);
    return served;
  }

  /** The eager units an index names, in order. */
  private static List<Integer> eagerOf(PostCopyIndex index) {
    List<Integer> eager = new ArrayList<>();
    for (int u = 0; u < index.getEagerUnits(); u++) {
      eager.add(u);
    }
    eager.addAll(index.getMoreEagerUnitsList());
    return eager;
  }

  /**
   * Offers {@code served} to a target that answers as one that {@code takes} eager units or as
   * an older one, and asks for the last unit that is not eager once the index is in.
   */
  private Seen offer(ServedMemory served, boolean takes) throws Exception {
    int asked = served.hostUnits().size() - 1;
    while (served.eagerUnits().contains(asked)) {
      asked--;
    }
    int last = asked;
    CompletableFuture<Seen> seen = CompletableFuture.supplyAsync(() -> {
      try {
        return actAsTarget(takes, last);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    try (PageServer pages = PageServer.open(NodeClient.of("b", run), MIGRATION,
        RestoreRequest.getDefaultInstance(), LinkWatch.Timing.DEFAULT)) {
      pages.offer(served, false);
      return assertTimeoutPreemptively(Duration.ofSeconds(30),
          () -> seen.get(30, TimeUnit.SECONDS));
    }
  }

  private Seen actAsTarget(boolean takes, int asked) throws IOException {
    try (SocketChannel c = target.accept()) {
      DataInputStream in = new DataInputStream(new BufferedInputStream(
          Channels.newInputStream(c)));
      DataOutputStream out = new DataOutputStream(Channels.newOutputStream(c));
      assertTrue(Request.parseDelimitedFrom(in).hasPostCopy());
      PostCopyReply.Builder ready = PostCopyReply.newBuilder().setReady(true);
      if (takes) {
        ready.setTakesEagerUnits(true);
      }
      Response.newBuilder().setPostCopy(ready).build().writeDelimitedTo(out);
      out.flush();
      PostCopyIndex index = null;
      List<Integer> unasked = new ArrayList<>();
      while (true) {
        int type = in.read();
        switch (type) {
          case PageFrames.HEARTBEAT -> { }
          case PageFrames.INDEX -> {
            index = PostCopyIndex.parseFrom(PageFrames.readMessage(in));
            out.writeByte(PageFrames.FETCH);
            out.writeInt(asked);
            out.writeByte(1);
            out.flush();
          }
          case PageFrames.UNIT -> {
            int unit = in.readInt();
            in.skipNBytes(in.readInt());
            if (unit == asked) {
              return new Seen(index, asked, unasked);
            }
            unasked.add(unit);
          }
          default -> throw new IOException("frame " + type);
        }
      }
    }
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Registry;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import dev.accr.proto.PsReply;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr ps} against a node listening on TCP in this JVM. */
class PsCommandTest {
  @TempDir Path tmp;

  @Test
  void jsonListsTheProcessWithItsArgvUnescapedAndTextListsItsPid() throws Exception {
    Registry registry = Registry.load(List.of());
    try (Node node = new Node("ps", registry.topologies().load("cpu-only"), registry);
        NodeServer server = NodeServer.bind(new NodeService(node, () -> {}),
            tmp.resolve("ps.sock"), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      server.start();
      // Relative: a TCP client is shown no absolute path of the node.
      List<String> argv = List.of("--steps=40", "--out", "a<b>&'c'.out");
      SimProcess p = node.create("counter", argv, tmp, 0);
      InetSocketAddress address = (InetSocketAddress) server.tcpAddress();
      String where = address.getHostString() + ":" + address.getPort();

      CliRun json = accr("ps", "--node", where, "--json");
      assertEquals(0, json.code(), json.err());
      assertFalse(json.out().matches("(?s).*(?<!\\\\)\\\\u00(3d|3c|3e|26|27).*"), json.out());
      assertTrue(json.out().contains("\"--steps=40\""), json.out());
      PsReply.Builder ps = PsReply.newBuilder();
      JsonFormat.parser().merge(json.out(), ps);
      assertEquals(1, ps.getProcessesCount());
      assertEquals(p.pid(), ps.getProcesses(0).getPid());
      assertEquals(argv, ps.getProcesses(0).getArgvList());

      CliRun text = accr("ps", "--node", where);
      assertEquals(0, text.code(), text.err());
      assertTrue(text.out().lines().anyMatch(l -> l.startsWith(p.pid() + " ")
          && l.contains("counter --steps=40")), text.out());
    }
  }

  @Test
  void aTreeShowsEachChildUnderItsParentAndWaitPrintsTheTreesDigest() throws Exception {
    Registry registry = Registry.load(List.of());
    try (Node node = new Node("tree", registry.topologies().load("cpu-only"), registry);
        NodeServer server = NodeServer.bind(new NodeService(node, () -> {}),
            tmp.resolve("tree.sock"), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      server.start();
      InetSocketAddress address = (InetSocketAddress) server.tcpAddress();
      String where = address.getHostString() + ":" + address.getPort();
      List<String> args = List.of("--stages", "2", "--steps", "3", "--mem-mib", "1");
      String expected = InlineTree.finish(node,
          node.create("pipe-chain", concat(args, "--out", "a.out"), tmp, 0), false);
      SimProcess root = node.create("pipe-chain", concat(args, "--out", "b.out"), tmp, 0);
      InlineTree.round(node, root, false); // forks the two stages
      List<Integer> stages = root.lineage().children();

      List<String> lines = accr("ps", "--node", where).out().lines().toList();
      assertEquals(4, lines.size(), String.join("\n", lines));
      assertTrue(lines.get(1).startsWith(root.pid() + " ") && lines.get(1).contains(" 0 ")
          && lines.get(1).contains("  pipe-chain"), lines.get(1));
      for (int i = 0; i < 2; i++) {
        String line = lines.get(2 + i);
        assertTrue(line.matches(stages.get(i) + " +" + root.pid() + " .*  \\\\_ pipe-chain .*"),
            line);
      }
      CliRun json = accr("ps", "--node", where, "--json");
      PsReply.Builder ps = PsReply.newBuilder();
      JsonFormat.parser().merge(json.out(), ps);
      assertEquals(List.of(root.pid(), root.pid()), ps.getProcessesList().stream()
          .filter(p -> p.getPid() != root.pid()).map(p -> p.getPpid()).toList());
      assertTrue(json.out().contains("\"ppid\": 0,"), "a root's ppid is printed: " + json.out());
      assertTrue(ps.getProcessesList().stream().allMatch(p -> p.getPgid() == root.pid()
          && p.getSid() == root.pid()), json.out());

      while (InlineTree.round(node, root, false)) {
        // the whole tree runs to its end
      }
      CliRun waited = accr("wait", "--node", where, "-t", "" + root.pid());
      assertEquals(0, waited.code(), waited.err());
      assertEquals("digest: " + expected, waited.out().strip());
      long deadline = System.nanoTime() + 10_000_000_000L; // the node reaps after replying
      while (!node.processes().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(node.processes().isEmpty(), "the tree is gone once waited for");
    }
  }

  private static List<String> concat(List<String> a, String... b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(List.of(b));
    return out;
  }
}

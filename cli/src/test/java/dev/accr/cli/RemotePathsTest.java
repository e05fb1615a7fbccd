package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.ImageRoot;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Paths typed to a node reached over TCP resolve in that node's image root. */
class RemotePathsTest {
  @TempDir Path tmp;

  @Test
  void relativePathsLandInTheImageRootAndOutsidePathsAreRefused() throws Exception {
    Registry registry = Registry.load(List.of());
    ImageRoot root = ImageRoot.open(tmp.resolve("images/r"));
    Path outside = tmp.resolve("outside");
    try (Node node = new Node("r", registry.topologies().load("cpu-only"), registry);
        NodeServer server = NodeServer.bind(new NodeService(node, root, () -> {}),
            tmp.resolve("r.sock"), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      server.start();
      InetSocketAddress address = (InetSocketAddress) server.tcpAddress();
      String where = address.getHostString() + ":" + address.getPort();

      CliRun run = accr("run", "--node", where, "--step-delay-ms", "1", "counter",
          "--mem-mib", "1", "--steps", "1000000", "--out", "c.out");
      assertEquals(0, run.code(), run.err());
      String pid = run.out().strip();
      assertTrue(Files.exists(root.path().resolve("c.out")), "output in the image root");

      CliRun dump = accr("dump", "--node", where, "-t", pid, "-D", "set", "-R");
      assertEquals(0, dump.code(), dump.err());
      assertTrue(dump.out().startsWith("dumped " + pid + " into set\n"), dump.out());
      assertTrue(Files.exists(root.path().resolve("set/inventory.img")));

      CliRun refused = accr("dump", "--node", where, "-t", pid, "-D", outside.toString());
      assertEquals(2, refused.code(), refused.err());
      assertEquals(1, refused.err().strip().lines().count(), refused.err());
      assertTrue(refused.err().contains(outside + "' is outside the image root"), refused.err());
      assertFalse(refused.err().contains(root.toString()), "no path of the node: " + refused.err());
      assertFalse(Files.exists(outside));
      assertTrue(node.hasPid(Integer.parseInt(pid)), "the process runs on");
      node.kill(Integer.parseInt(pid));
    }
  }
}

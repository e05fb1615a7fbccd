package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.accr.kernel.Node;
import dev.accr.node.ImageRoot;
import dev.accr.kernel.SimProcess;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpReply;
import dev.accr.proto.RestoreReply;
import dev.accr.testkit.Scenarios;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code accr dump} and {@code accr restore} print of a GPU process: host memory and the
 * kfd plugin's VRAM, per phase, as text and JSON; {@code -v} and {@code --log-file}; a failure
 * naming its log. Through the real command line and a node served in this JVM on loopback.
 */
class OperationSummaryTest {
  @TempDir Path tmp;

  @AfterEach
  void forgetTheCommandsLog() {
    java.util.logging.LogManager.getLogManager().reset(); // -v set it up in this JVM
  }

  @Test
  void summariesCountDeviceMemoryAndLogsShowThePluginsSteps() throws Exception {
    ImageRoot root = ImageRoot.open(tmp.resolve("images"));
    try (Node node = Scenarios.node("gpu", "mi100x2");
        NodeServer server = NodeServer.bind(new NodeService(node, root, () -> {}),
            tmp.resolve("gpu.sock"), new InetSocketAddress("127.0.0.1", 0))) {
      server.start();
      String target = "127.0.0.1:" + ((InetSocketAddress) server.tcpAddress()).getPort();
      SimProcess p = node.spawn("kfd-train", List.of("--gpus", "2", "--vram-kib", "2048",
          "--steps", "100000", "--gpu-us-per-wg", "20"), root.path(), 20);

      Path set = root.path().resolve("set");
      CliRun json = CliRun.accr("dump", "--node", target, "-t", "" + p.pid(), "-D", "set", "-R",
          "--json");
      assertEquals(0, json.code(), json.err());
      DumpReply.Builder dumped = DumpReply.newBuilder();
      JsonFormat.parser().merge(json.out(), dumped);
      BytesMovedEntry kfd = dumped.getStats().getMovedList().stream()
          .filter(m -> m.getSource().equals("kfd")).findFirst().orElseThrow();
      assertTrue(kfd.getBytesRead() >= 2 * 2048 * 1024, kfd::toString);
      assertEquals(kfd.getBytesRead() - kfd.getBytesSkipped(), kfd.getBytesWritten());
      assertEquals("set/dump.log", dumped.getLogFile(), "as the remote client may see it");

      Path logFile = tmp.resolve("client.log");
      CliRun text = CliRun.accr("-v", "--log-file", logFile.toString(), "dump", "--node",
          target, "-t", "" + p.pid(), "-D", "set2", "-R");
      assertEquals(0, text.code(), text.err());
      List<String> lines = text.out().lines().toList();
      assertTrue(lines.get(1).matches(" {2}[0-9.]+ ms in all, frozen [0-9.]+ ms: freeze [0-9.]+ ms,"
          + " devices [0-9.]+ ms, memory [0-9.]+ ms, write [0-9.]+ ms, sync [0-9.]+ ms"), text.out());
      assertTrue(lines.get(2).startsWith("  memory "), text.out());
      assertTrue(lines.get(3).matches("  kfd +[0-9.]+ MiB read, .* stored, .* of zeros skipped"),
          text.out());
      assertTrue(lines.get(4).matches("  all +[0-9.]+ MiB read, .* stored: [0-9.]+ GB/s"),
          text.out());
      assertEquals("", text.err(), "the log went to the file");
      String log = Files.readString(logFile);
      assertTrue(log.contains("DEBUG plugin kfd: checkpointDevices (claimed)"), log);
      assertTrue(log.contains("INFO  dump done in"), log);

      node.kill(p.pid());
      CliRun restored = CliRun.accr("restore", "--node", target, "-D", "set");
      assertEquals(0, restored.code(), restored.err());
      assertTrue(restored.out().matches("(?s)restored " + p.pid() + " on node .*\n  [0-9.]+ ms in"
          + " all: plan .*\n  kfd +[0-9.]+ MiB read, [0-9.]+ MiB written\n.*"), restored.out());
      assertTrue(Files.exists(set.resolve("stats-restore.img")));

      CliRun again = CliRun.accr("restore", "--node", target, "-D", "set");
      assertEquals(1, again.code());
      assertTrue(again.err().matches("accr: restore: pid \\d+ is already taken on node gpu \\(log: "
          + "set/restore.log\\)\n"), again.err());
    }
  }
}

package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ServedMemory;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPUs of a process whose VRAM a post-copy source serves stay paused as long as it is
 * served, as its threads stay stopped: a queue that ran on would change VRAM the target has not
 * fetched yet, and then run the same packets again there. They resume once nothing is served.
 */
class ServedVramQueuesTest {
  @TempDir Path tmp;

  @Test
  void theQueuesOfAProcessWhoseVramIsServedStayPausedUntilTheServerCloses() throws Exception {
    try (Node node = KfdNodes.node("a", "mi250x4")) {
      SimProcess p = node.create("kfd-halo", List.of("--gpus", "2", "--vram-mib", "2",
          "--steps", "1000"), tmp, 0);
      Scenarios.step(p, 3);
      KfdProcess kfd = KfdNodes.kfd(node).process(p.pid());
      assertFalse(kfd.queueList().isEmpty(), "the workload made queues");
      ServedMemory served = new ServedMemory();
      new Dumper(node, PluginHost.of(node.registry().plugins())).servingMemory(served)
          .dump(p.pid(), tmp.resolve("meta"), DumpOptions.defaults().withLeaveStopped(true),
              ProgressListener.NONE);
      assertTrue(kfd.queueList().stream().allMatch(HwQueue::paused),
          "a queue runs while its VRAM is served");
      served.close();
      assertTrue(kfd.queueList().stream().noneMatch(HwQueue::paused),
          "the queues resume once nothing is served");
      node.kill(p.pid());
    }
  }
}

package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.KfdProcess;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kfd-ddp ends with one tree digest whatever the schedule (the gradients are summed in rank
 * order on every path), its workers share gradients as dma-bufs, and the node holds no VRAM
 * once the tree is reaped.
 */
class KfdDdpTest {
  static final List<String> ARGS = List.of("--gpus", "4", "--vram-kib", "256", "--steps", "2",
      "--seed", "11");

  @TempDir Path tmp;

  private String run(String topology, List<String> args, boolean reverse) {
    try (Node node = KfdNodes.node("a", topology)) {
      SimProcess root = node.create("kfd-ddp", args, tmp, 0);
      String digest = InlineTree.finish(node, root, reverse);
      assertEquals(0, KfdNodes.kfd(node).allocatedVramBytes(), "every worker freed its VRAM");
      assertEquals(0, KfdNodes.kfd(node).dmaBufCount());
      return digest;
    }
  }

  @Test
  void oneDigestWhateverTheSchedule() {
    String forward = run("mi250x4", ARGS, false);
    assertEquals(forward, run("mi250x4", ARGS, true));
  }

  @Test
  void workersImportTheirPartnersGradients() {
    try (Node node = KfdNodes.node("a", "mi250x4")) {
      SimProcess root = node.create("kfd-ddp", ARGS, tmp, 0);
      for (int i = 0; i < 4; i++) {
        InlineTree.round(node, root, false); // fork, set up, import
      }
      List<Integer> workers = root.lineage().children();
      assertEquals(4, workers.size());
      for (int rank = 0; rank < 4; rank++) {
        KfdProcess kfd = KfdNodes.kfd(node).process(workers.get(rank));
        assertTrue(kfd != null, "worker " + rank + " opened /dev/kfd");
        assertEquals(List.of(KfdNodes.kfd(node).gpus().get(rank).gpuId()), kfd.gpuIds(),
            "a worker holds only its own GPU");
      }
      assertEquals(4, KfdNodes.kfd(node).dmaBufCount(), "each worker exported its gradients");
      InlineTree.finish(node, root, false);
    }
  }
}

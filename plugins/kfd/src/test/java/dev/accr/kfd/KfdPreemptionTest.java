package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hard moments of a GPU dump, made certain rather than left to timing: a slow device
 * (50 us per workgroup) is dumped right after a step, so dispatches are preempted mid-kernel
 * and SVM pages live on both GPUs; the restored run still ends with the right digest.
 */
class KfdPreemptionTest {
  @TempDir Path tmp;

  @Test
  void dispatchPreemptedMidKernelResumesAfterRestore() throws Exception {
    List<String> args = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "6", "--seed", "3",
        "--gpu-us-per-wg", "50");
    String expected;
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      expected = Scenarios.uninterrupted(a, "kfd-train", args, tmp);
    }
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2-renumbered")) {
      SimProcess p = a.create("kfd-train", args, tmp, 0);
      Scenarios.step(p, 3);
      Thread.sleep(30); // the second step's dispatches are now running, workgroup by workgroup
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults());

      List<KfdQueueEntry> queues = EntryImageCodec.read(dir.resolve("kfd-queues-" + p.pid()
          + ".img"), ImageKind.PLUGIN, null).parseAll(KfdQueueEntry.parser());
      assertTrue(queues.stream().anyMatch(q -> q.getPreemptedPacket() > 0
          && q.getPreemptedNextWorkgroup() > 0), "a dispatch was preempted mid-kernel: " + queues);
      assertTrue(queues.stream().anyMatch(q -> q.getWriteIndex() > q.getReadIndex() + 1),
          "several packets in flight");
      Set<Integer> locations = new TreeSet<>();
      for (KfdSvmRangeEntry r : EntryImageCodec.read(dir.resolve("kfd-svm-" + p.pid() + ".img"),
          ImageKind.PLUGIN, null).parseAll(KfdSvmRangeEntry.parser())) {
        r.getResidencyList().stream().map(SvmResidencyRun::getLocation).forEach(locations::add);
      }
      assertTrue(locations.size() >= 3, "SVM pages in system memory and on both GPUs: "
          + locations);

      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, dir)));
    }
  }
}

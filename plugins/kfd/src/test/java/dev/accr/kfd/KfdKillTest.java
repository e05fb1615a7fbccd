package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restored process whose GPU queues were preempted and never resumed waits forever on a GPU
 * event inside a step. Kill and node close still end it promptly, with its devices.
 */
class KfdKillTest {
  private static final List<String> ARGS = List.of("--gpus", "1", "--vram-mib", "2", "--steps",
      "50", "--seed", "3");

  @TempDir Path tmp;

  private Path imageSet() throws Exception {
    Path dir = tmp.resolve("set");
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 4);
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
    }
    return dir;
  }

  /** Restores the set running, then stops its GPU queues as a checkpoint would, for good. */
  private static SimProcess restoreWaitingForever(Node node, Path dir) throws Exception {
    SimProcess p = new Restorer(node, Scenarios.plugins(node)).restore(dir,
        RestoreOptions.defaults().withStart(RestoreOptions.Start.RUN), ProgressListener.NONE)
        .process();
    KfdCriu.processInfo(KfdNodes.kfd(node).process(p.pid())); // preempts every queue
    Thread.sleep(200); // a step now waits for an event no queue will signal
    assertTrue(!p.exitFuture().isDone(), "the process waits");
    return p;
  }

  @Test
  void killEndsAProcessWaitingForeverOnAGpuEvent() throws Exception {
    Path dir = imageSet();
    try (Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = restoreWaitingForever(b, dir);
      long t0 = System.nanoTime();
      b.kill(p.pid());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 1000, "killed in " + ms + " ms");
      assertTrue(p.exitFuture().isCompletedExceptionally());
      assertTrue(b.processes().isEmpty());
      assertEquals(0, KfdNodes.kfd(b).processCount());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "its VRAM is freed");
    }
  }

  @Test
  void nodeCloseEndsAProcessWaitingForever() throws Exception {
    Path dir = imageSet();
    Node b = KfdNodes.node("b", "mi100x2");
    SimProcess p = restoreWaitingForever(b, dir);
    long t0 = System.nanoTime();
    b.close();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms < 2000, "node closed in " + ms + " ms");
    assertTrue(p.exitFuture().isCompletedExceptionally());
    assertTrue(b.processes().isEmpty());
  }
}

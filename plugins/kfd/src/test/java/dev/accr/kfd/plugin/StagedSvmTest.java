package dev.accr.kfd.plugin;

import static dev.accr.kfd.plugin.StagedRestores.inline;
import static dev.accr.kfd.plugin.StagedRestores.kfdBytesRead;
import static dev.accr.kfd.plugin.StagedRestores.restoreStaged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.driver.KfdQueues;
import dev.accr.kfd.driver.SvmRange;
import dev.accr.kfd.driver.Vram;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VRAM-resident SVM pages in a migration's pre-copy rounds ({@link StagedSvm}): kfd-train's
 * momentum lives partly in VRAM, and between the rounds its pages are moved to system memory,
 * to the other GPU and back (as prefetches and GPU faults move them). The restore after the
 * stop takes the staged pages, reads only the last link's VRAM, and the process ends with the
 * digest of a run that made the same moves uninterrupted.
 */
class StagedSvmTest {
  /** kfd-train's momentum: per GPU a range that prefers the GPU, then one that prefers host. */
  private static final long SVM = 0x40_0000_0000L;
  private static final long UNIT = 2L << 20; // --vram-mib 4: 2 MiB buffers per GPU
  private static final long HALF = UNIT / 2;
  /** A quarter of each GPU's weights, gradients and momentum train: the rest stays frozen. */
  private static final List<String> ARGS = List.of("--gpus", "2", "--vram-mib", "4",
      "--steps", "16", "--seed", "7", "--gpu-us-per-wg", "1", "--trainable-fraction", "0.25");
  /** The first frozen momentum page of GPU 1 (trainable: the first 128 pages of 512). */
  private static final long FROZEN = SVM + UNIT + 128 * 4096;

  @TempDir Path tmp;

  @Test
  void svmPagesMovedBetweenRoundsAreStagedExactly() throws Exception {
    String expected;
    try (Node u = KfdNodes.node("u", "mi250x4")) {
      SimProcess p = u.create("kfd-train", ARGS, tmp, 0);
      for (int i = 0; i < 4; i++) {
        Scenarios.step(p, i < 3 ? 2 : 1);
        move(u, p, i);
      }
      expected = Scenarios.finish(u, p);
    }
    List<Path> rounds = new ArrayList<>();
    Path last = tmp.resolve("final");
    try (Node a = KfdNodes.node("a", "mi250x4")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      KfdProcess kfd = KfdNodes.kfd(a).process(p.pid());
      List<Integer> gpus = kfd.gpuIds();
      for (int i = 0; i < 4; i++) {
        Scenarios.step(p, i < 3 ? 2 : 1);
        move(a, p, i);
        if (i == 0) {
          assertEquals(gpus.get(0), kfd.svmLocation(SVM), "momentum in VRAM at round 0");
          assertEquals(gpus.get(1), kfd.svmLocation(FROZEN), "prefetched");
        } else if (i == 1) {
          assertEquals(SvmRange.SYSTEM, kfd.svmLocation(SVM), "moved to system memory");
          assertEquals(gpus.get(0), kfd.svmLocation(SVM + UNIT), "moved to the other GPU");
        } else if (i == 2) {
          assertEquals(gpus.get(0), kfd.svmLocation(SVM), "faulted back to its GPU");
          assertEquals(gpus.get(1), kfd.svmLocation(SVM + UNIT), "faulted back to its GPU");
          assertEquals(gpus.get(0), kfd.svmLocation(FROZEN), "frozen: not faulted back");
        }
        Path dir = tmp.resolve(i < 3 ? "r" + i : "final");
        Dumper dumper = new Dumper(a, Scenarios.plugins(a)).withParent(
            rounds.isEmpty() ? null : rounds.getLast(), UnaryOperator.identity());
        if (i < 3) {
          dumper.preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2),
              ProgressListener.NONE);
          rounds.add(dir);
        } else {
          dumper.dump(p.pid(), dir, DumpOptions.defaults(), ProgressListener.NONE);
        }
      }
    }
    try (Node c = KfdNodes.node("c", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      Restorer.Result plain = new Restorer(c, Scenarios.plugins(c)).restore(last, inline(),
          ProgressListener.NONE);
      Restorer.Result r = restoreStaged(b, rounds, last);
      long fromImages = kfdBytesRead(plain);
      long staged = kfdBytesRead(r);
      assertTrue(staged < fromImages / 2, "VRAM read from the images: " + staged + " of "
          + fromImages + " bytes");
      // Every byte of device memory as the plain restore left it, pages not resident in a
      // shadow too (the digest sees only resident ones).
      List<Gpu> plainGpus = KfdNodes.kfd(c).gpus();
      List<Gpu> stagedGpus = KfdNodes.kfd(b).gpus();
      for (int g = 0; g < plainGpus.size(); g++) {
        assertSameVram(plainGpus.get(g).vram(), stagedGpus.get(g).vram(), g);
      }
      assertEquals(expected, Scenarios.finish(c, plain.process()), "restored from the images");
      assertEquals(expected, Scenarios.finish(b, r.process()), "restored from the stage");
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "every VRAM block freed");
    }
  }

  private static void assertSameVram(Vram plain, Vram staged, int gpu) {
    for (long at = 0; at < plain.capacity(); at += Vram.BLOCK) {
      int b = (int) (at / Vram.BLOCK);
      if (plain.present(b) || staged.present(b)) {
        long differs = plain.forRead(at, Vram.BLOCK).mismatch(staged.forRead(at, Vram.BLOCK));
        assertEquals(-1, differs, "GPU " + gpu + ": VRAM differs at offset " + (at + differs));
      }
    }
  }

  /**
   * The moves made once the process's GPU work is done (always waited for), before dump
   * {@code i} (3: the stop). Before round 0, GPU 1's frozen momentum (in system memory, never
   * touched by a GPU) gets contents and is prefetched to GPU 1, where no later link writes it
   * unless it moves. Before round 1, GPU 0's momentum to system memory, GPU 1's to GPU 0 and
   * GPU 0's host half to GPU 1: the next steps fault the trainable pages back to their GPU,
   * the frozen ones of GPU 1 stay on GPU 0 and only round 1 stores them there. Before the
   * stop, that host half to GPU 0.
   */
  private static void move(Node node, SimProcess p, int i) throws InterruptedException {
    KfdProcess kfd = KfdNodes.kfd(node).process(p.pid());
    List<Integer> gpus = kfd.gpuIds();
    KfdQueues.drain(kfd); // the moves land between the same GPU work in both runs
    if (i == 0) {
      for (long va = FROZEN; va < SVM + UNIT + HALF; va += 4096) {
        p.memory().writeLong(va + 8 * (va >> 12 & 63), va ^ 0x5eed);
      }
      kfd.svmPrefetch(SVM + UNIT, gpus.get(1));
    } else if (i == 1) {
      kfd.svmPrefetch(SVM, SvmRange.SYSTEM);
      kfd.svmPrefetch(SVM + UNIT, gpus.get(0));
      kfd.svmPrefetch(SVM + HALF, gpus.get(1));
    } else if (i == 3) {
      kfd.svmPrefetch(SVM + HALF, gpus.get(0));
    }
  }
}

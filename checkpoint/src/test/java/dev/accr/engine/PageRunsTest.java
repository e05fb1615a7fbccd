package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How a page dump cuts memory into runs and chunks, and what it reads while a process runs. */
class PageRunsTest {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final long LEFT = 0x7000_0000L;
  private static final long RIGHT = LEFT + 4L * PAGE; // starts where the left mapping ends

  @TempDir Path tmp;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"none", "zstd"})
  void mappingsSideBySideRestorePageForPage(String compress) throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", List.of("--mem-mib", "1", "--steps", "4", "--out",
        tmp.resolve("c.out").toString()), tmp, 0);
    p.memory().mapAnonymous(LEFT, 4L * PAGE, Prot.RW, "left");
    p.memory().mapAnonymous(RIGHT, 4L * PAGE, Prot.RW, "right");
    for (int i = 0; i < 8; i++) {
      p.memory().writeLong(LEFT + (long) i * PAGE, 1000 + i);
    }
    Path dir = tmp.resolve("img");
    Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(1).withChunkPages(64)
        .withCompression(Compression.parse(compress)));

    Node b = Scenarios.node("b");
    SimProcess restored = Scenarios.restore(b, dir);
    for (int i = 0; i < 8; i++) {
      assertEquals(1000 + i, restored.memory().readLong(LEFT + (long) i * PAGE), "page " + i);
    }
  }

  @Test
  void preDumpsOfAProcessThatWritesAllTheTimeAreConsistent() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.spawn("counter", List.of("--mem-mib", "16", "--steps", "100000000",
        "--pages-per-step", "4096", "--out", tmp.resolve("c.out").toString()), tmp, 0);
    try {
      Path parent = null;
      long steps = 0;
      for (int i = 0; i < 4; i++) {
        stepsPast(p, steps); // pages written since the last pre-dump, on a busy machine too
        Path dir = tmp.resolve("pre" + i);
        new Dumper(a, Scenarios.plugins(a)).withParent(parent, UnaryOperator.identity())
            .preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2),
                ProgressListener.NONE);
        // Every chunk's checksum matches what was written, although pages changed meanwhile.
        ImageChecker.Report r = ImageChecker.check(dir, 2, Scenarios.plugins(a));
        assertTrue(r.chunks() > 0, "pre-dump " + i + " stored pages");
        parent = dir;
        steps = p.thread(0).pc();
      }
    } finally {
      a.kill(p.pid());
    }
  }

  /** Waits until the counter has taken a step past {@code steps}. */
  private static void stepsPast(SimProcess p, long steps) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (p.thread(0).pc() <= steps && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    assertTrue(p.thread(0).pc() > steps, "the counter took a step");
  }
}

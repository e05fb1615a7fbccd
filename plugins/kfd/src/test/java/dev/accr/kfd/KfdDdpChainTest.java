package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageChain;
import dev.accr.engine.ImageChecker;
import dev.accr.engine.ImageSet;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.ImageFileRef;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kfd-ddp dumped as chains of 2 and 5 links (one link is {@link KfdDdpTreeTest}) at random
 * rounds (a pre-dump, dumps that leave the tree running, a last dump), with dispatches in
 * flight and gradients exchanged through exported buffers between links; restored on the same
 * preset or on another topology (there stepped on, dumped in full and restored on the first
 * preset again): the digest of an uninterrupted run. A link after a first one that saved the
 * workers' GPUs stores less VRAM than it.
 */
class KfdDdpChainTest {
  private static final List<String> ARGS = List.of("--gpus", "4", "--vram-kib", "256",
      "--steps", "4", "--seed", "9", "--gpu-us-per-wg", "10", "--trainable-fraction", "0.25");
  private record Run(String digest, int rounds) {}
  private static final Map<String, Run> UNINTERRUPTED = new ConcurrentHashMap<>();

  @TempDir Path tmp;

  static Stream<Arguments> chains() {
    return Stream.of(
        Arguments.of("mi250x4", "mi250x4", 2, 62L, true),
        Arguments.of("mi250x4", "mi300x8", 5, 63L, false));
  }

  /**
   * With {@code rightAfterFork} the first link is taken after one round: the workers exist but
   * have no GPU state yet, so the next link stores their VRAM in full.
   */
  @ParameterizedTest(name = "{2} links on {0} -> {1}")
  @MethodSource("chains")
  void aChainOfTheTreeRestoresToTheUninterruptedDigest(String from, String to, int links,
      long seed, boolean rightAfterFork) throws Exception {
    Run run = uninterrupted(from);
    Random random = new Random(seed);
    Path previous = null;
    try (Node a = KfdNodes.node("a", from); Node b = KfdNodes.node("b", to)) {
      SimProcess root = a.create("kfd-ddp", ARGS, tmp, 0);
      int left = run.rounds() - 2;
      for (int i = 0; i < links; i++) {
        int at = i == 0 && rightAfterFork ? 1
            : 1 + random.nextInt(Math.max(1, left / (links - i) - 1));
        step(a, root, at);
        left -= at;
        Path dir = tmp.resolve("link" + i);
        Dumper d = new Dumper(a, Scenarios.plugins(a)).withParent(previous,
            UnaryOperator.identity());
        if (i == links - 1) {
          d.dump(root.pid(), dir, DumpOptions.defaults().withThreads(2), ProgressListener.NONE);
        } else if (i % 2 == 0) {
          d.preDump(root.pid(), dir, DumpOptions.defaults().withThreads(2),
              ProgressListener.NONE);
        } else {
          d.dump(root.pid(), dir, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE);
        }
        previous = dir;
      }
      assertTrue(a.processes().isEmpty(), "the last dump ended the tree");
      assertEquals(0, KfdNodes.kfd(a).allocatedVramBytes());
      assertEquals(links, ImageChain.read(previous).links().size());
      ImageChecker.check(previous, 2, Scenarios.plugins(a));
      if (!rightAfterFork) {
        long first = vramBytes(tmp.resolve("link0"));
        long last = vramBytes(previous);
        assertTrue(last < first, "the last link stores less VRAM: " + last + " of " + first);
      }
      SimProcess again = Scenarios.restore(b, previous, KfdDdpTreeTest.RELAXED);
      if (to.equals(from)) {
        assertEquals(run.digest(), Scenarios.finish(b, again));
      } else {
        step(b, again, 1);
        Path moved = tmp.resolve("moved");
        Scenarios.dump(b, again, moved, DumpOptions.defaults());
        assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
        try (Node c = KfdNodes.node("c", from)) {
          assertEquals(run.digest(), Scenarios.finish(c,
              Scenarios.restore(c, moved, KfdDdpTreeTest.RELAXED)));
          assertEquals(0, KfdNodes.kfd(c).dmaBufCount());
        }
      }
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
      assertEquals(0, KfdNodes.kfd(b).dmaBufCount());
    }
  }

  private Run uninterrupted(String topology) {
    return UNINTERRUPTED.computeIfAbsent(topology, t -> {
      try (Node a = KfdNodes.node("a", t)) {
        SimProcess root = a.create("kfd-ddp", ARGS, tmp, 0);
        int rounds = 0;
        while (InlineTree.round(a, root, false)) {
          rounds++;
        }
        return new Run(a.waitFor(root.pid()), rounds);
      }
    });
  }

  private static void step(Node node, SimProcess root, int rounds) {
    for (int i = 0; i < rounds; i++) {
      assertTrue(InlineTree.round(node, root, false), "still running after " + i + " rounds");
    }
  }

  private static long vramBytes(Path dir) throws Exception {
    return ImageSet.read(dir).inventory().getFilesList().stream()
        .filter(f -> f.getName().startsWith("kfd-vram-") && f.getName().contains(".pages"))
        .mapToLong(ImageFileRef::getSize).sum();
  }
}

package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.MappingPolicy;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.RestoreOptions;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kfd-ddp dumped as a tree at several moments (right after the fork, with dispatches in flight
 * in every worker, between barriers), restored on the same preset or on another topology,
 * stepped on, dumped again and restored a third time: the digest of an uninterrupted run. Its
 * gradients are saved once, with their exporters. A worker dumped without its partner (the
 * exporter of a buffer it imported) refuses the dump and the tree runs on.
 */
class KfdDdpTreeTest {
  static final List<String> ARGS = List.of("--gpus", "4", "--vram-kib", "256", "--steps", "3",
      "--seed", "5", "--gpu-us-per-wg", "200");
  /** The uninterrupted run's digest on each topology (ids differ between them). */
  private static final Map<String, String> EXPECTED = new java.util.concurrent.ConcurrentHashMap<>();

  /** MI250 and MI300 differ in VRAM size and caches; the program has code for both. */
  static final RestoreOptions RELAXED = RestoreOptions.defaults()
      .withMapping(MappingPolicy.of(Map.of(), Set.of("caches", "vram", "fw", "capability")));

  @TempDir Path tmp;

  static Stream<Arguments> moments() {
    return Stream.of(
        Arguments.of("mi250x4", "mi250x4", 1, 7),
        Arguments.of("mi250x4", "mi300x8", 5, 4),
        Arguments.of("mi300x8", "mi250x4", 7, 2));
  }

  @ParameterizedTest(name = "{0} after {2} rounds -> {1}, {3} more -> {0}")
  @MethodSource("moments")
  void dumpedTwiceRestoredTwiceSameDigest(String from, String to, int rounds, int more)
      throws Exception {
    String expected = expected(from);
    Path first = tmp.resolve("first-" + rounds);
    Path second = tmp.resolve("second-" + rounds);
    try (Node a = KfdNodes.node("a", from); Node b = KfdNodes.node("b", to);
        Node c = KfdNodes.node("c", from)) {
      SimProcess root = a.create("kfd-ddp", ARGS, tmp, 0);
      step(a, root, rounds);
      Scenarios.dump(a, root, first, DumpOptions.defaults());
      assertTrue(a.processes().isEmpty(), "the dumped tree is gone");
      SimProcess again = Scenarios.restore(b, first, RELAXED);
      step(b, again, more);
      Scenarios.dump(b, again, second, DumpOptions.defaults());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "the second dump freed the tree");
      assertEquals(expected, Scenarios.finish(c, Scenarios.restore(c, second, RELAXED)));
      assertEquals(0, KfdNodes.kfd(c).allocatedVramBytes());
      assertEquals(0, KfdNodes.kfd(c).dmaBufCount());
    }
  }

  /**
   * Restored lazily (its host pages and every worker's VRAM on first touch or pushed, several
   * processes' VRAM on one GPU, shared gradients behind dma-bufs), the tree ends with the
   * digest of an uninterrupted run, and every block comes in once.
   */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.EnumSource(value = RestoreOptions.Lazy.class,
      names = {"CHECKED", "UNCHECKED"})
  void aLazilyRestoredTreeEndsWithTheUninterruptedDigest(RestoreOptions.Lazy mode)
      throws Exception {
    String expected = expected("mi250x4");
    Path set = tmp.resolve("lazy");
    try (Node a = KfdNodes.node("a", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      SimProcess root = a.create("kfd-ddp", ARGS, tmp, 0);
      step(a, root, 5);
      Scenarios.dump(a, root, set, DumpOptions.defaults());
      dev.accr.engine.Restorer.Result r = new dev.accr.engine.Restorer(b, Scenarios.plugins(b))
          .restore(set, RestoreOptions.defaults().withThreads(2).withLazy(mode)
              .withStart(RestoreOptions.Start.INLINE), dev.accr.image.ProgressListener.NONE);
      assertTrue(r.tree().size() > 2, "a launcher and its workers: " + r.tree().size());
      assertEquals(expected, InlineTree.finish(b, r.process(), false));
      var end = r.lazy().await(60_000);
      assertEquals("", end.failure());
      var vram = end.devices().stream().filter(d -> d.name().contains("VRAM")).toList();
      assertTrue(vram.size() > 1, "each worker's VRAM loads lazily: " + end);
      for (var d : vram) {
        assertTrue(d.faulted() + d.pushed() <= d.units(), "each block once: " + d);
      }
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
      assertEquals(0, KfdNodes.kfd(b).dmaBufCount());
    }
  }

  @Test
  void aWorkerDumpedWithoutItsPartnerRefusesAndRunsOn() throws Exception {
    String expected = expected("mi250x4");
    try (Node a = KfdNodes.node("a", "mi250x4")) {
      SimProcess root = a.create("kfd-ddp", ARGS, tmp, 0);
      step(a, root, 5);
      SimProcess worker = a.process(root.lineage().children().get(1));
      AccrException e = assertThrows(AccrException.class,
          () -> Scenarios.dump(a, worker, tmp.resolve("alone"), DumpOptions.defaults()));
      assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
      // Its pipes to the launcher are met first; the buffer its partner exported would be too.
      assertTrue(e.getMessage().contains("process " + worker.pid())
          && e.getMessage().contains("outside the tree"), e.getMessage());
      assertEquals(expected, InlineTree.finish(a, root, false), "the tree ran on as it was");
    }
  }

  private String expected(String topology) {
    return EXPECTED.computeIfAbsent(topology, t -> {
      try (Node a = KfdNodes.node("a", t)) {
        return Scenarios.finish(a, a.create("kfd-ddp", ARGS, tmp, 0));
      }
    });
  }

  private static void step(Node node, SimProcess root, int rounds) {
    for (int i = 0; i < rounds; i++) {
      assertTrue(InlineTree.round(node, root, false), "still running after " + i + " rounds");
    }
  }
}

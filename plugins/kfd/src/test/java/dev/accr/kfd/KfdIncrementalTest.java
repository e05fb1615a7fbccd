package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.Compactor;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.engine.SetDestination;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.plugin.KfdPlugin;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.testkit.FailingLatePlugin;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GPU workloads dumped as chains (a pre-dump, dumps that leave the process running, a last
 * dump) at random steps, with dispatches in flight, restored on the same or a renumbered
 * topology: the digest of an uninterrupted run, and incremental links store less VRAM.
 */
class KfdIncrementalTest {
  private static final int STEPS = 12;
  private static final List<String> SERVE = List.of("--gpus", "2", "--weights-mib", "2",
      "--kv-mib", "2", "--requests", "4", "--steps", "" + STEPS, "--seed", "7",
      "--gpu-us-per-wg", "20");
  private static final Map<String, String> UNINTERRUPTED = new ConcurrentHashMap<>();
  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    List<String> train = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "" + STEPS,
        "--seed", "3", "--trainable-fraction", "0.25", "--gpu-us-per-wg", "5");
    List<String> halo = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "" + STEPS,
        "--seed", "5", "--gpu-us-per-wg", "10");
    return Stream.of(
        Arguments.of("kfd-serve", SERVE, "mi100x2", 2, 21L),
        Arguments.of("kfd-serve", SERVE, "mi100x2-renumbered", 5, 22L),
        Arguments.of("kfd-train", train, "mi100x2-renumbered", 2, 23L),
        Arguments.of("kfd-train", train, "mi100x2", 5, 24L),
        Arguments.of("kfd-halo", halo, "mi100x2-renumbered", 2, 26L),
        Arguments.of("kfd-halo", halo, "mi100x2", 5, 25L));
  }

  @ParameterizedTest(name = "{0} as {3} links -> {2}")
  @MethodSource("cases")
  void aChainRestoresToTheUninterruptedDigest(String workload, List<String> args, String to,
      int links, long seed) throws Exception {
    String expected = uninterrupted(workload, args);
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", to)) {
      SimProcess p = a.create(workload, args, tmp, 0);
      Random random = new Random(seed);
      Path previous = null;
      for (int i = 0; i < links; i++) {
        Scenarios.step(p, 1 + random.nextInt(STEPS / links - 1 + 1));
        Path dir = tmp.resolve("link" + i);
        Dumper d = new Dumper(a, Scenarios.plugins(a)).withParent(previous,
            UnaryOperator.identity());
        if (i == links - 1) {
          d.dump(p.pid(), dir, DumpOptions.defaults().withThreads(2), ProgressListener.NONE);
        } else if (i % 2 == 0) {
          d.preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2), ProgressListener.NONE);
        } else {
          d.dump(p.pid(), dir, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE);
        }
        previous = dir;
      }
      if (workload.equals("kfd-serve") && links > 1) {
        long full = vramBytes(tmp.resolve("link0"));
        long last = vramBytes(previous);
        assertTrue(last < full, "the last link stores less VRAM: " + last + " of " + full);
      }
      if (links == 5) {
        // The chain folded into one full set restores as the chain does.
        Path full = tmp.resolve("full");
        Compactor.compact(previous, full, DumpOptions.defaults(), a.registry().plugins());
        ImageSet compacted = ImageSet.read(full);
        assertTrue(!compacted.hasParent() && compacted.inventory().getFilesList().stream()
            .noneMatch(f -> f.getName().contains("written") || f.getName().contains("packed")),
            compacted.inventory().getFilesList().toString());
        try (Node c = KfdNodes.node("c", to)) {
          assertEquals(expected, Scenarios.finish(c, Scenarios.restore(c, full)));
        }
      }
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, previous)));
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
    }
  }

  /**
   * A chain begun by a full dump that leaves the process running (no pre-dump): the next link
   * stores only the VRAM written since, as it does for host memory, and restores.
   */
  @Test
  void aFullDumpThatLeavesTheProcessRunningBeginsTrackingVram() throws Exception {
    String expected = uninterrupted("kfd-serve", SERVE);
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = a.create("kfd-serve", SERVE, tmp, 0);
      Scenarios.step(p, 3);
      Path full = tmp.resolve("full");
      new Dumper(a, Scenarios.plugins(a)).dump(p.pid(), full,
          DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE);
      Scenarios.step(p, 2);
      Path link = tmp.resolve("link");
      new Dumper(a, Scenarios.plugins(a)).withParent(full, UnaryOperator.identity())
          .dump(p.pid(), link, DumpOptions.defaults(), ProgressListener.NONE);
      assertIncremental(link, full);
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, link)));
    }
  }

  /**
   * A dump that would begin a new tracking period (a full {@code dump -R}) and then fails, once
   * the kfd plugin has saved the VRAM: the period it would have ended goes on, so a link on the
   * set that began it still stores every VRAM page written since, before the failed dump too.
   */
  @Test
  void aFailedDumpThatBeganTrackingLosesNoWrittenVram() throws Exception {
    String expected = uninterrupted("kfd-serve", SERVE);
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = a.create("kfd-serve", SERVE, tmp, 0);
      KfdPlugin kfd = new KfdPlugin(); // one plugin instance: it knows the tracking periods
      PluginHost plugins = PluginHost.of(List.of(kfd));
      Scenarios.step(p, 2);
      Path first = tmp.resolve("first");
      new Dumper(a, plugins).preDump(p.pid(), first, DumpOptions.defaults(),
          ProgressListener.NONE);
      Scenarios.step(p, 3); // pages only the failed dump's period would cover
      Path failed = tmp.resolve("failed");
      PluginHost failing = PluginHost.of(List.of(kfd,
          new FailingLatePlugin("injected failure after the kfd images were written")));
      AccrException e = assertThrows(AccrException.class, () -> new Dumper(a, failing)
          .dump(p.pid(), failed, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE));
      assertTrue(e.getMessage().contains("injected") && Files.notExists(failed),
          e.getMessage());
      Scenarios.step(p, 2);
      Path link = tmp.resolve("link");
      new Dumper(a, plugins).withParent(first, UnaryOperator.identity())
          .dump(p.pid(), link, DumpOptions.defaults(), ProgressListener.NONE);
      assertIncremental(link, first);
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, link)));
    }
  }

  @Test
  void aFailedDumpThatTurnedTrackingOnTurnsItOffAgain() throws Exception {
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-serve", SERVE, tmp, 0);
      KfdPlugin kfd = new KfdPlugin();
      Scenarios.step(p, 2);
      PluginHost failing = PluginHost.of(List.of(kfd,
          new FailingLatePlugin("injected failure after the kfd images were written")));
      Path failed = tmp.resolve("failed");
      assertThrows(AccrException.class, () -> new Dumper(a, failing)
          .dump(p.pid(), failed, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE));
      KfdProcess process = KfdNodes.kfd(a).process(p.pid());
      assertFalse(KfdCriu.isDirtyTracking(process), "writes cost nothing extra again");
      new Dumper(a, PluginHost.of(List.of(kfd))).dump(p.pid(), tmp.resolve("ok"),
          DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE);
      assertTrue(KfdCriu.isDirtyTracking(process), "a dump -R that succeeds begins a period");
      Scenarios.finish(a, p);
    }
  }

  private static void assertIncremental(Path link, Path full) throws Exception {
    assertTrue(ImageSet.read(link).inventory().getFilesList().stream()
        .anyMatch(f -> f.getName().startsWith("kfd-vram-written")), "an incremental link");
    assertTrue(vramBytes(link) * 2 < vramBytes(full),
        "the link stores the VRAM written since: " + vramBytes(link) + " of "
        + vramBytes(full));
  }

  /**
   * Pre-dumps copy VRAM while the process runs on its own thread (dispatching, allocating and
   * freeing KV segments): the chain still restores to the uninterrupted digest, and the
   * process was frozen for less than the whole pre-dump.
   */
  @Test
  void preDumpsOfARunningProcessRestoreToTheUninterruptedDigest() throws Exception {
    String expected = uninterrupted("kfd-serve", SERVE);
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = a.spawn("kfd-serve", SERVE, tmp, 200); // 2.4 s at the least
      Path previous = null;
      for (int i = 0; i < 3; i++) {
        Path dir = tmp.resolve("running" + i);
        Dumper d = new Dumper(a, Scenarios.plugins(a)).withParent(previous,
            UnaryOperator.identity());
        if (i < 2) {
          DumpStatsEntry stats = d.preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2),
              ProgressListener.NONE);
          assertTrue(stats.getFrozenTimeUs() < stats.getTotalTimeUs(), stats.toString());
        } else {
          d.dump(p.pid(), dir, DumpOptions.defaults(), ProgressListener.NONE);
        }
        previous = dir;
      }
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, previous)));
    }
  }

  /**
   * Links whose parent is not readable here, known by name and id only, as a migration's
   * rounds (their parent lives on the target): each still stores just the VRAM written since,
   * in the incremental layout, and the chain restores to the uninterrupted digest.
   */
  @Test
  void linksWhoseParentIsNotReadableHereAreIncremental() throws Exception {
    String expected = uninterrupted("kfd-serve", SERVE);
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = a.create("kfd-serve", SERVE, tmp, 0);
      Path away = Files.createDirectories(tmp.resolve("away"));
      Path previous = null;
      for (int i = 0; i < 3; i++) {
        Scenarios.step(p, 3);
        Path dir = tmp.resolve("round" + i);
        Path parentDir = previous;
        ImageSet parent = previous == null ? null : ImageSet.read(previous);
        if (previous != null) {
          Files.move(previous, away.resolve(previous.getFileName())); // "on the target"
        }
        Dumper d = new Dumper(a, Scenarios.plugins(a)).writingTo(new SetDestination() {
          @Override
          public ImageSetWriter open(Path set) {
            return ImageSetWriter.create(set);
          }

          @Override
          public ImageSet parent(Path named) {
            return ImageSet.known(parentDir, parent.id(), parent.inventory());
          }
        }).withParent(previous, UnaryOperator.identity());
        if (i < 2) {
          d.preDump(p.pid(), dir, DumpOptions.defaults(), ProgressListener.NONE);
        } else {
          d.dump(p.pid(), dir, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE);
        }
        if (previous != null) {
          Files.move(away.resolve(previous.getFileName()), previous);
          assertTrue(ImageSet.read(dir).inventory().getFilesList().stream()
              .anyMatch(f -> f.getName().startsWith("kfd-vram-written")),
              dir + " stores the written VRAM as an incremental link");
        }
        previous = dir;
      }
      // The rounds did not change the process they read, and the chain holds it.
      assertEquals(expected, Scenarios.finish(a, p), "the source");
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, previous)), "the chain");
    }
  }

  /** The digest of an uninterrupted run, computed once per workload and arguments. */
  private String uninterrupted(String workload, List<String> args) {
    return UNINTERRUPTED.computeIfAbsent(workload + " " + args, k -> {
      try (Node a = KfdNodes.node("a", "mi100x2")) {
        return Scenarios.uninterrupted(a, workload, args, tmp);
      }
    });
  }

  private static long vramBytes(Path dir) throws Exception {
    return ImageSet.read(dir).inventory().getFilesList().stream()
        .filter(f -> f.getName().startsWith("kfd-vram-") && f.getName().contains(".pages"))
        .mapToLong(ImageFileRef::getSize).sum();
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.PipeEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code accr diff} of two checkpoints of one pipe-chain tree: early (every stage running,
 * bytes in the pipes) and late (a stage exited and not yet reaped). It reports what changed
 * per process and in what they share, and exits 1; a set against itself exits 0.
 */
class TreeDiffTest {
  /** Far more than the chain takes to run to its end. */
  private static final long MAX_ROUNDS = 100_000;

  @TempDir static Path dir;
  private static Path early;
  private static Path late;

  @BeforeAll
  static void twoMoments() throws IOException {
    Registry registry = Registry.load(List.of());
    List<String> args = List.of("--stages", "3", "--steps", "12", "--seed", "3", "--mem-mib",
        "1", "--out", dir.resolve("chain.out").toString());
    try (Node node = new Node("a", registry.topologies().load("cpu-only"), registry)) {
      SimProcess p = node.create("pipe-chain", args, dir, 0);
      Dumper dumper = new Dumper(node, PluginHost.of(registry.plugins()));
      DumpOptions running = DumpOptions.defaults().withLeaveRunning(true);
      // Early: every stage runs and a pipe holds bytes.
      long round = 0;
      for (int i = 0; early == null && round < MAX_ROUNDS; i++, round++) {
        InlineTree.round(node, p, false);
        if (round % 4 == 3) {
          Path set = dir.resolve("early-" + i);
          dumper.dump(p.pid(), set, running, ProgressListener.NONE);
          if (ImageSet.read(set).shared().pipes().values().stream()
              .anyMatch(e -> !e.getData().isEmpty())) {
            early = set;
          }
        }
      }
      assertTrue(early != null, "a moment with bytes in a pipe");
      // Late: a stage exited and is not reaped yet.
      for (; zombies(node, p) == 0 && round < MAX_ROUNDS; round++) {
        InlineTree.round(node, p, false);
      }
      assertTrue(zombies(node, p) > 0, "a stage exited and is not reaped yet");
      late = dir.resolve("late");
      dumper.dump(p.pid(), late, running, ProgressListener.NONE);
      node.kill(p.pid());
    }
  }

  /** A pipe of both sets whose bytes differ in length, or null. */
  private static PipeEntry changedPipe(ImageSet a, ImageSet b) {
    return a.shared().pipes().values().stream().filter(e -> {
      PipeEntry later = b.shared().pipes().get(e.getId());
      return later != null && later.getData().size() != e.getData().size();
    }).findFirst().orElse(null);
  }

  private static long zombies(Node node, SimProcess root) {
    return node.processes().stream().filter(q -> q != root
        && q.state() == SimProcess.State.EXITED).count();
  }

  @Test
  void twoMomentsOfATreeDifferPerProcessAndInWhatTheyShare() throws IOException {
    CliRun r = accr("diff", early.toString(), late.toString());
    assertEquals(1, r.code(), r.err());
    assertEquals("", r.err(), "one program: no warning");
    ImageSet a = ImageSet.read(early);
    ImageSet b = ImageSet.read(late);
    // Each process's memory is compared: rows for every pid of the tree.
    for (int pid : a.processes().keySet()) {
      assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith(pid + " ")),
          "pid " + pid + ":\n" + r.out());
    }
    int zombie = b.processes().values().stream().filter(i -> i.pstree().getZombie())
        .findFirst().orElseThrow().pstree().getPid();
    assertTrue(r.out().contains("pstree.img pid=" + zombie + ": zombie false -> true"),
        r.out());
    // The pipes changed: bytes read and written, ends closed by the stage that exited.
    assertTrue(r.out().contains("  pipes.img id="), r.out());
    PipeEntry changed = changedPipe(a, b);
    if (changed != null) {
      assertTrue(r.out().contains("pipes.img id=" + changed.getId() + ": data changed ("
          + changed.getData().size() + " -> "
          + b.shared().pipes().get(changed.getId()).getData().size() + " bytes)"), r.out());
    }
    // The shared counters changed in the pages of the process that stores them.
    int owner = a.shared().shmem().values().iterator().next().getOwnerPid();
    assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith(owner + " ")
        && l.contains(" counters ")), r.out());
  }

  @Test
  void aTreeAgainstItselfHasNoChanges() throws IOException {
    SetDiffs.Comparison c = SetDiffs.of(late, late, PluginHost.of(Registry.load(List.of())
        .plugins()));
    assertEquals(List.of(), c.diff().getStateChangesList());
    assertFalse(DiffCommand.differ(c.diff()), "exits 0");
  }
}

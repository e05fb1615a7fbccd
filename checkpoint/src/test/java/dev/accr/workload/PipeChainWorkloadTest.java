package dev.accr.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pipe-chain ends with one digest whatever the schedule of its processes. */
class PipeChainWorkloadTest {
  private static final int STAGES = 3;
  private static final int STEPS = 20;

  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new PipeChainWorkload()));
  private final Node node = new Node("chain", registry.topologies().load("cpu-only"), registry);

  @AfterEach
  void close() {
    node.close();
  }

  private List<String> args(long seed, String out) {
    return List.of("--stages", "" + STAGES, "--steps", "" + STEPS, "--seed", "" + seed,
        "--mem-mib", "1", "--out", out);
  }

  private String threaded(long seed, String out) {
    SimProcess root = node.spawn("pipe-chain", args(seed, out), tmp, 0);
    return node.waitFor(root.pid());
  }

  private String inline(long seed, String out, boolean reverse) {
    SimProcess root = node.create("pipe-chain", args(seed, out), tmp, 0);
    return InlineTree.finish(node, root, reverse);
  }

  @Test
  void anUninterruptedRunHasTheSameDigestWhateverTheScheduleAndRunAfterRun() throws IOException {
    String threaded = threaded(7, "a.out");
    assertEquals(threaded, threaded(7, "b.out"), "run after run on one node");
    assertEquals(threaded, inline(7, "c.out", false), "stages stepped in pid order");
    assertEquals(threaded, inline(7, "d.out", true), "and in reverse order");
    assertNotEquals(threaded, inline(8, "e.out", false), "the seed counts");
    assertEquals(Files.readString(tmp.resolve("a.out")), Files.readString(tmp.resolve("d.out")));
    assertTrue(node.processes().isEmpty(), "every tree was reaped");
  }

  @Test
  void everyRecordPassesEveryStageAndIsCountedInTheSharedCounters() throws IOException {
    inline(3, "log.out", false);
    List<String> lines = Files.readAllLines(tmp.resolve("log.out"));
    int records = STEPS * PipeChainStage.BATCH;
    assertEquals(records + 1 + STAGES, lines.size());
    assertTrue(lines.get(records).startsWith("stages 3 records " + records + " counted "
        + records * STAGES + " xor "), lines.get(records));
    assertTrue(lines.get(records).endsWith(" exit statuses 0"), lines.get(records));
    for (int k = 1; k <= STAGES; k++) {
      assertTrue(lines.get(records + k).startsWith("stage " + k + " records " + records
          + " sum "), lines.get(records + k));
    }
  }

  @Test
  void stagesBlockOnEmptyPipesAndExitedStagesAreZombiesUntilTheRootReaps() {
    SimProcess root = node.create("pipe-chain", args(5, "z.out"), tmp, 0);
    InlineTree.round(node, root, false); // the root forks the stages
    assertEquals(STAGES, root.lineage().children().size());
    SimProcess last = node.process(root.lineage().children().get(STAGES - 1));
    InlineTree.round(node, root, false);
    assertTrue(last.blocked(), "the last stage found its pipe empty");
    assertEquals(SimProcess.State.NEW, last.state());

    boolean sawZombie = false;
    while (InlineTree.round(node, root, false)) {
      sawZombie |= root.lineage().children().stream()
          .anyMatch(pid -> node.process(pid).lineage().exited());
    }
    assertTrue(sawZombie, "a stage that exited waited for the root to reap it");
    assertEquals(STAGES, root.lineage().descendants());
    node.waitFor(root.pid());
  }

  @Test
  void badOptionsAreUsageErrors() {
    AccrException e = assertThrows(AccrException.class,
        () -> node.create("pipe-chain", List.of("--stages", "65"), tmp, 0));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(node.processes().isEmpty());
  }
}

package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.StagedChain;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target's stages of pre-copy migrations: fed round by round in the background, taken by
 * the restore with every round that arrived, and freed whole when the migration is discarded,
 * when a round breaks off, or when the source falls silent.
 */
class MigrationStagesTest {
  private static final String ID = "0123456789abcdef0123456789abcdef";
  @TempDir Path tmp;
  private Path r0;
  private Path r1;
  private Node b;
  private long resident;

  @BeforeEach
  void rounds() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", List.of("--mem-mib", "1", "--steps", "100",
        "--pages-per-step", "16", "--out", tmp.resolve("o.out").toString()), tmp, 0);
    Scenarios.step(p, 5);
    r0 = tmp.resolve("r0");
    new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), r0, DumpOptions.defaults(),
        ProgressListener.NONE);
    Scenarios.step(p, 5);
    r1 = tmp.resolve("r1");
    new Dumper(a, Scenarios.plugins(a)).withParent(r0, UnaryOperator.identity())
        .preDump(p.pid(), r1, DumpOptions.defaults(), ProgressListener.NONE);
    b = Scenarios.node("b");
    resident = b.memory().residentPages();
  }

  private MigrationStages stages() {
    return new MigrationStages(b, Scenarios.plugins(b));
  }

  @Test
  void theRestoreTakesEveryRoundThatArrived() throws Exception {
    MigrationStages stages = stages();
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    try (StagedChain chain = stages.take(ID)) {
      assertEquals(2, chain.ids().size(), "both rounds staged before the restore goes on");
      assertTrue(b.memory().stagedPages() > 0);
      assertEquals(0, stages.count());
    }
    assertEquals(resident, b.memory().residentPages());
    assertNull(stages.take(ID), "a migration's stage is taken once");
  }

  @Test
  void aDiscardedMigrationOrABrokenRoundLeavesNothing() throws Exception {
    MigrationStages stages = stages();
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    stages.drop(ID);
    assertEquals(0, stages.count());
    assertEquals(resident, b.memory().residentPages());
    assertEquals(0, b.memory().stagedPages());
  }

  @Test
  void aSilentSourceLosesItsStage() throws Exception {
    MigrationStages stages = stages();
    stages.idleMillis(200);
    stages.begin(ID, r0, 2);
    stages.receiving(ID, true); // a round under way keeps it, however long it takes
    Thread.sleep(400);
    assertEquals(1, stages.count());
    stages.receiving(ID, false);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (stages.count() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, stages.count(), "dropped once the source was silent");
    assertEquals(resident, b.memory().residentPages());
    assertEquals(0, b.memory().stagedPages());
  }
}

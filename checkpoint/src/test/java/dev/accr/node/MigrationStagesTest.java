package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.StagedChain;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

  /** An Error while staging (out of memory) frees the stage and does not hold the restore. */
  @Test
  void aStageThatFailsWithAnErrorDoesNotHoldTheRestore() throws Exception {
    MigrationStages stages = stages();
    stages.stager((chain, round) -> {
      if (round.equals(r1)) {
        throw new OutOfMemoryError("staging");
      }
      chain.stage(round);
    });
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    StagedChain chain = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> stages.take(ID),
        "the restore is not held by a failed round");
    if (chain != null) {
      assertEquals(0, chain.pages(), "nothing staged to adopt");
      chain.close();
    }
    awaitFreed();
  }

  /** Rounds not staged in time: the restore reads the images, the stage is freed. */
  @Test
  void aStageThatDoesNotEndInTimeIsAbandoned() throws Exception {
    MigrationStages stages = stages();
    stages.awaitMillis(200);
    CountDownLatch release = new CountDownLatch(1);
    stages.stager(blockingOn(r1, release));
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    awaitFirstRound();
    assertEquals(0, assertTimeoutPreemptively(Duration.ofSeconds(20),
        () -> stages.awaitStaged(ID)), "the source waits no longer");
    assertEquals(0, stages.count());
    assertNull(stages.take(ID));
    release.countDown();
    awaitFreed();
  }

  /** A restore interrupted while it waits for the rounds leaves no stage behind. */
  @Test
  void anInterruptedTakeFreesTheStage() throws Exception {
    MigrationStages stages = stages();
    CountDownLatch release = new CountDownLatch(1);
    stages.stager(blockingOn(r1, release));
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    awaitFirstRound();
    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> stages.take(ID));
    release.countDown();
    awaitFreed();
  }

  /** A long round does not let the stage expire under the source waiting for it. */
  @Test
  void aStageDoesNotExpireWhileItsRoundsAreAwaited() throws Exception {
    MigrationStages stages = stages();
    // A round far longer than the idle limit, and a limit long enough that the test's own
    // step from the wait to the take never outlasts it on a loaded machine.
    stages.idleMillis(1000);
    stages.stager((chain, round) -> {
      if (round.equals(r1)) {
        try {
          Thread.sleep(2500);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      chain.stage(round);
    });
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    assertEquals(2, stages.awaitStaged(ID), "both rounds staged");
    try (StagedChain chain = stages.take(ID)) {
      assertEquals(2, chain.ids().size());
    }
    awaitFreed();
  }

  @Test
  void closingAllFreesEveryStage() throws Exception {
    MigrationStages stages = stages();
    stages.begin(ID, r0, 2);
    stages.arrived(ID, r1);
    stages.awaitStaged(ID);
    assertTrue(b.memory().stagedPages() > 0);
    stages.closeAll();
    assertEquals(0, stages.count());
    awaitFreed();
  }

  private static MigrationStages.Stager blockingOn(Path blocked, CountDownLatch release) {
    return (chain, round) -> {
      if (round.equals(blocked)) {
        try {
          release.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      chain.stage(round);
    };
  }

  /** Waits (20 s at most) for the first round to be staged. */
  private void awaitFirstRound() throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (b.memory().stagedPages() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(b.memory().stagedPages() > 0, "the first round staged");
  }

  /** Waits (20 s at most) for the node to hold no staged page again. */
  private void awaitFreed() throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while ((b.memory().stagedPages() > 0 || b.memory().residentPages() != resident)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, b.memory().stagedPages(), "no page left staged");
    assertEquals(resident, b.memory().residentPages());
  }
}

package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.Signals;
import dev.accr.api.ThreadView;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trees of running processes: zombies, waitpid, orphans, signals, kills, the tree digest. */
class ProcessTreeTest {
  private static final long PRIVATE = 0x1000_0000L;
  private static final long SHARED = 0x2000_0000L;
  private static final int ROOT = 0;
  private static final int EXIT = 1;
  private static final int BLOCK = 2;
  private static final int MIDDLE = 3;
  /** Registers of thread 0: role, phase, children, seed, hold, blocking pipe's read end. */
  private static final int R_ROLE = 0;
  private static final int R_PHASE = 1;
  private static final int R_CHILDREN = 2;
  private static final int R_SEED = 3;
  private static final int R_HOLD = 4;
  private static final int R_PIPE = 5;
  private static final int R_CHILD_ROLE = 6;
  private static final int R_INDEX = 7;
  /** The root keeps each reaped child's status + 1000 in registers 8, 9, 10... */
  private static final int R_STATUS = 8;
  /** Set: the root's step fails once its children are forked (a page it could not load). */
  private static final int R_CRASH = 15;

  @TempDir Path tmp;
  private final Node node = ScriptedWorkload.node(
      new ScriptedWorkload(ProcessTreeTest::exec, ProcessTreeTest::step));

  @AfterEach
  void close() {
    node.close();
  }

  /** Arguments: children, seed, child role, hold (wait for SIGUSR1 before reaping). */
  private static void exec(ProcessView p) {
    p.memory().mapAnonymous(PRIVATE, 4L * MemoryView.PAGE_SIZE, Prot.RW, "private");
    p.memory().mapShared(SHARED, MemoryView.PAGE_SIZE, Prot.RW, "shared");
    ThreadView t = p.thread(0);
    int[] pipe = p.files().pipe(); // its write end stays open: a read blocks
    t.setGpr(R_PIPE, pipe[0]);
  }

  private static boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    MemoryView m = p.memory();
    switch ((int) t.gpr(R_ROLE)) {
      case EXIT -> {
        long i = t.gpr(R_INDEX);
        m.writeLong(PRIVATE, t.gpr(R_SEED) * i); // private: no other process changes it
        p.setExitStatus((int) i);
        return false;
      }
      case BLOCK -> {
        int n = p.files().read((int) t.gpr(R_PIPE), new byte[1], 0, 1);
        return n != 0;
      }
      case MIDDLE -> {
        t.setGpr(R_ROLE, BLOCK);
        p.fork();
        return false;
      }
      default -> {
        return root(p, t, m);
      }
    }
  }

  private static boolean root(ProcessView p, ThreadView t, MemoryView m) {
    int children = (int) t.gpr(R_CHILDREN);
    if (t.gpr(R_PHASE) == 0) {
      for (int i = 1; i <= children; i++) {
        t.setGpr(R_ROLE, t.gpr(R_CHILD_ROLE));
        t.setGpr(R_INDEX, i);
        m.writeLong(PRIVATE + 8L * i, p.fork());
      }
      t.setGpr(R_ROLE, ROOT);
      t.setGpr(R_PHASE, 1);
      return true;
    }
    if (t.gpr(R_CRASH) != 0) {
      throw AccrException.failed("a page could not be loaded");
    }
    if (t.gpr(R_HOLD) != 0) {
      if (!p.takeSignal(Signals.SIGUSR1)) {
        p.files().read((int) t.gpr(R_PIPE), new byte[1], 0, 1); // sleeps until signalled
        return true;
      }
      t.setGpr(R_HOLD, 0);
    }
    for (int i = 1; i <= children; i++) {
      int r = R_STATUS + i - 1;
      if (t.gpr(r) == 0) {
        int status = p.waitChild((int) m.readLong(PRIVATE + 8L * i));
        if (status == FileView.WOULD_BLOCK) {
          return true;
        }
        t.setGpr(r, status + 1000L);
      }
    }
    return false;
  }

  private SimProcess start(int children, long seed, int childRole, boolean hold) {
    return start(node, children, seed, childRole, hold);
  }

  private SimProcess start(Node on, int children, long seed, int childRole, boolean hold) {
    SimProcess root = on.create("scripted", List.of(), tmp, 0);
    ThreadView t = root.thread(0);
    t.setGpr(R_CHILDREN, children);
    t.setGpr(R_SEED, seed);
    t.setGpr(R_CHILD_ROLE, childRole);
    t.setGpr(R_HOLD, hold ? 1 : 0);
    root.start();
    return root;
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
      Thread.onSpinWait();
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  /** A run on a fresh node: the root keeps its children's pids in its memory. */
  private String runTree(long seed) {
    try (Node fresh = ScriptedWorkload.node(
        new ScriptedWorkload(ProcessTreeTest::exec, ProcessTreeTest::step))) {
      return runTree(fresh, seed);
    }
  }

  private String runTree(Node on, long seed) {
    SimProcess root = start(on, 3, seed, EXIT, false);
    String digest = on.waitFor(root.pid());
    assertEquals(3, root.lineage().descendants());
    for (int i = 1; i <= 3; i++) {
      assertEquals(1000 + i, root.thread(0).gpr(R_STATUS + i - 1));
    }
    return digest;
  }

  @Test
  void theTreeDigestCoversEveryProcessAndIsTheSameRunAfterRun() {
    String a = runTree(5);
    String b = runTree(5);
    String c = runTree(6);
    assertEquals(a, b);
    assertNotEquals(a, c, "the children's state counts");
    runTree(node, 5);
    assertTrue(node.processes().isEmpty(), "the tree is reaped");
  }

  @Test
  void aChildThatExitedIsAZombieUntilItsParentWaitsAndTheParentGetsItsStatus() {
    SimProcess root = start(2, 1, EXIT, true);
    await("both children are zombies", () -> root.lineage().children().size() == 2
        && root.lineage().children().stream().allMatch(c -> node.hasPid(c)
            && node.process(c).lineage().exited()));
    int child = root.lineage().children().get(0);
    assertEquals(root.pid(), node.process(child).ppid());
    assertEquals(1, node.process(child).lineage().exitStatus());

    root.kill(root.pid(), Signals.SIGUSR1);
    node.waitFor(root.pid());
    assertEquals(1001, root.thread(0).gpr(R_STATUS));
    assertEquals(1002, root.thread(0).gpr(R_STATUS + 1));
    assertTrue(node.processes().isEmpty());
  }

  @Test
  void waitingForAProcessThatIsNotAChildFails() {
    SimProcess a = node.create("scripted", List.of(), tmp, 0);
    SimProcess b = node.create("scripted", List.of(), tmp, 0);
    AccrException e = assertThrows(AccrException.class, () -> a.waitChild(b.pid()));
    assertEquals("waitpid: process " + b.pid() + " is not a child of " + a.pid(),
        e.getMessage());
  }

  @Test
  void aSignalStaysPendingAndSigtermEndsABlockedChildWithItsStatus() {
    SimProcess root = start(1, 1, BLOCK, false);
    await("the child blocks on its pipe", () -> root.lineage().children().size() == 1
        && node.process(root.lineage().children().get(0)).blocked());
    SimProcess child = node.process(root.lineage().children().get(0));

    root.kill(child.pid(), Signals.SIGUSR1);
    assertEquals(Signals.bit(Signals.SIGUSR1), child.pendingSignals());
    child.catchSignal(Signals.SIGHUP);
    root.kill(child.pid(), Signals.SIGHUP);
    await("the child took another step", () -> child.blocked());
    assertEquals(SimProcess.State.RUNNING, child.state(), "caught and user signals stay pending");

    root.kill(0, 0); // signal 0: the group exists
    root.kill(child.pid(), Signals.SIGTERM);
    node.waitFor(root.pid());
    assertEquals(1000 + 128 + Signals.SIGTERM, root.thread(0).gpr(R_STATUS));
  }

  @Test
  void orphansGoToTheRootOfTheTreeWhichReapsThemOnceItHasExited() {
    SimProcess root = start(1, 1, MIDDLE, false);
    await("the grandchild is the root's child", () -> root.lineage().children().size() == 1
        && node.process(root.lineage().children().get(0)).lineage().ppid() == root.pid()
        && node.process(root.lineage().children().get(0)).blocked());
    SimProcess orphan = node.process(root.lineage().children().get(0));
    await("the root has reaped the middle process and exited",
        () -> root.state() == SimProcess.State.EXITED);
    assertTrue(!root.exitFuture().isDone(), "a root's exit waits for its tree");

    orphan.kill(orphan.pid(), Signals.SIGTERM);
    node.waitFor(root.pid());
    assertEquals(2, root.lineage().descendants());
    assertTrue(node.processes().isEmpty());
  }

  @Test
  void killingATreeEndsEveryProcessAndFreesAllItsMemory() {
    SimProcess root = start(3, 1, BLOCK, false);
    await("three children block", () -> root.lineage().children().size() == 3
        && root.lineage().children().stream().allMatch(c -> node.process(c).blocked()));
    assertTrue(node.memory().residentPages() > 0);
    node.kill(root.pid());
    assertTrue(node.processes().isEmpty());
    assertEquals(0, node.memory().residentPages());
    assertEquals(0, node.memory().reservedBytes());
    AccrException e = assertThrows(AccrException.class, () -> node.awaitExit(root.pid()));
    assertEquals(AccrException.NOT_FOUND, e.exitCode());
  }

  @Test
  void aTreeKilledForAReasonAfterItsRootCrashedEndsItsRootWithTheReason() {
    // The root fails a step while its children run: its exit waits for them. The kill that
    // follows (a lazy restore whose source is lost) must complete it, saying why.
    SimProcess root = node.create("scripted", List.of(), tmp, 0);
    root.thread(0).setGpr(R_CHILDREN, 2);
    root.thread(0).setGpr(R_CHILD_ROLE, BLOCK);
    root.thread(0).setGpr(R_CRASH, 1);
    root.start();
    await("the root crashed, its two children blocked", () -> root.state()
        == SimProcess.State.EXITED && root.lineage().children().size() == 2
        && root.lineage().children().stream().allMatch(c -> node.process(c).blocked()));
    assertTrue(!root.exitFuture().isDone(), "a root's exit waits for its tree");

    node.kill(root.pid(), "the source of its pages is lost");
    AccrException e = assertThrows(AccrException.class, () -> node.awaitExit(root.pid()));
    assertEquals("process " + root.pid() + " was killed: the source of its pages is lost",
        e.getMessage());
    assertTrue(node.processes().isEmpty(), "the tree is gone once waited for");
    assertEquals(0, node.memory().residentPages());
  }

  @Test
  void killingAChildFromOutsideLeavesAZombieForItsParent() {
    SimProcess root = start(1, 1, BLOCK, false);
    await("the child blocks", () -> root.lineage().children().size() == 1
        && node.process(root.lineage().children().get(0)).blocked());
    node.kill(root.lineage().children().get(0));
    node.waitFor(root.pid());
    assertEquals(1000 + 128 + Signals.SIGKILL, root.thread(0).gpr(R_STATUS));
  }

  @Test
  void processGroupsAndSessions() {
    SimProcess leader = node.create("scripted", List.of(), tmp, 0);
    assertEquals(List.of(0, leader.pid(), leader.pid()),
        List.of(leader.ppid(), leader.pgid(), leader.sid()));
    SimProcess a = node.process(leader.fork());
    SimProcess b = node.process(leader.fork());
    AccrException e = assertThrows(AccrException.class, leader::setsid);
    assertTrue(e.getMessage().contains("already leads a process group"), e.getMessage());

    leader.setpgid(a.pid(), 0);
    assertEquals(a.pid(), a.pgid());
    b.setpgid(0, a.pid());
    assertEquals(a.pid(), b.pgid());
    leader.kill(-a.pid(), Signals.SIGUSR2);
    assertEquals(Signals.bit(Signals.SIGUSR2), a.pendingSignals() & b.pendingSignals());
    assertEquals(0, leader.pendingSignals());
    assertTrue(b.takeSignal(Signals.SIGUSR2));
    assertEquals(0, b.pendingSignals());

    SimProcess c = node.process(leader.fork());
    assertEquals(c.pid(), c.setsid());
    assertEquals(List.of(c.pid(), c.pid()), List.of(c.pgid(), c.sid()));
    assertThrows(AccrException.class, () -> leader.setpgid(c.pid(), 0), "another session");
    assertThrows(AccrException.class, () -> a.setpgid(b.pid(), 0), "not a child of a");
    AccrException gone = assertThrows(AccrException.class, () -> leader.kill(99999, 1));
    assertEquals(AccrException.NOT_FOUND, gone.exitCode());
    assertThrows(AccrException.class, () -> leader.kill(a.pid(), 99));
  }
}

package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginContext;
import dev.accr.api.ProcessView;
import dev.accr.api.Signals;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.PstreeEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree of two processes (a root and a child reading a pipe, both counting into shared
 * memory) dumped at several moments — bytes in the pipe, the child blocked on the empty pipe,
 * the child a zombie not yet reaped — each restored and dumped again: the
 * same digest as an uninterrupted run. And the failure paths: a restore failing after the
 * processes exist leaves nothing; a pipe shared with a process outside the tree refuses the
 * dump and the tree runs on.
 */
class TreeDumpRestoreTest {
  static final String RECORDS = "240";
  private static final ChainTestWorkload CHAIN = new ChainTestWorkload();

  @TempDir Path tmp;

  static Node node(AccrPlugin... plugins) {
    Registry r = Registry.of(List.of(plugins), List.of(), List.of(CHAIN));
    return new Node("tree", r.topologies().load("cpu-only"), r);
  }

  static SimProcess spawn(Node node) {
    return node.spawn("chain-test", List.of(RECORDS), Path.of("/"), 1);
  }

  static long phase(SimProcess root) {
    return root.thread(0).gpr(ChainTestWorkload.PHASE_REG);
  }

  static SimProcess child(Node node, SimProcess root) {
    return node.process(root.lineage().children().getFirst());
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.onSpinWait();
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  /** Sends the root its signals as it reaches each phase and returns the tree's digest. */
  static String finish(Node node, SimProcess root) {
    int pid = root.pid();
    await(() -> phase(root) >= 2, "the root has sent every record");
    if (phase(root) == 2) {
      root.kill(pid, Signals.SIGUSR1);
    }
    await(() -> phase(root) >= 3, "the root has closed its end");
    root.kill(pid, Signals.SIGUSR2);
    return node.waitFor(pid);
  }

  static ImageSet dump(Node node, int pid, Path dir) throws IOException {
    new Dumper(node, PluginHost.of(node.registry().plugins())).dump(pid, dir,
        DumpOptions.defaults(), ProgressListener.NONE);
    return ImageSet.read(dir);
  }

  static SimProcess restore(Node node, Path dir) throws IOException {
    return new Restorer(node, PluginHost.of(node.registry().plugins()))
        .restore(dir, RestoreOptions.defaults().withThreads(2), ProgressListener.NONE)
        .process();
  }

  @Test
  void aTreeDumpedAtManyMomentsAndRestoredEndsWithTheUninterruptedDigest() throws IOException {
    String expected;
    try (Node node = node()) {
      expected = finish(node, spawn(node));
    }
    try (Node node = node()) {
      SimProcess root = spawn(node);
      int pid = root.pid();
      await(() -> root.thread(0).gpr(1) >= Integer.parseInt(RECORDS) / 2, "half is sent");
      ImageSet inFlight = dump(node, pid, tmp.resolve("1"));
      assertEquals(2, inFlight.processes().size());
      assertTrue(inFlight.shared().pipes().values().stream()
          .anyMatch(p -> !p.getData().isEmpty()), "bytes in the pipe");
      assertEquals(1, inFlight.shared().shmem().size(), "the shared page, stored once");
      assertTrue(node.processes().isEmpty(), "the dump ended the tree");

      SimProcess second = restore(node, tmp.resolve("1"));
      assertEquals(pid, second.pid());
      SimProcess child = child(node, second);
      assertEquals(pid, child.ppid());
      await(() -> phase(second) == 2 && child.blocked(), "the child blocks on the empty pipe");
      ImageSet blocked = dump(node, pid, tmp.resolve("2"));
      assertTrue(blocked.shared().pipes().values().stream().allMatch(p -> p.getData().isEmpty()));

      SimProcess third = restore(node, tmp.resolve("2"));
      third.kill(pid, Signals.SIGUSR1);
      await(() -> phase(third) == 3 && child(node, third).lineage().exited(),
          "the child is a zombie");
      ImageSet zombie = dump(node, pid, tmp.resolve("3"));
      PstreeEntry dead = zombie.processes().values().stream().map(ImageSet.ProcessImages::pstree)
          .filter(PstreeEntry::getZombie).findFirst().orElseThrow();
      assertEquals(pid, dead.getPpid());

      SimProcess fourth = restore(node, tmp.resolve("3"));
      assertEquals(expected, finish(node, fourth));
      assertEquals(0, node.memory().residentPages());
    }
  }

  @Test
  void aRestoreFailingOnceEveryProcessExistsLeavesNothingOfTheTree() throws IOException {
    try (Node source = node()) {
      SimProcess root = spawn(source);
      await(() -> root.thread(0).gpr(1) >= 20, "records are sent");
      dump(source, root.pid(), tmp.resolve("set"));
    }
    AccrPlugin failing = new AccrPlugin() {
      @Override
      public String name() {
        return "failing";
      }

      @Override
      public void treeRestored(PluginContext ctx, List<ProcessView> tree) {
        assertEquals(2, tree.size());
        throw AccrException.failed("injected failure after %d processes", tree.size());
      }
    };
    try (Node node = node(failing)) {
      long before = node.memory().residentPages();
      AccrException e = assertThrows(AccrException.class, () -> restore(node, tmp.resolve("set")));
      assertTrue(e.getMessage().contains("injected failure after 2 processes"), e.getMessage());
      assertTrue(node.processes().isEmpty(), "no process of the tree is left");
      assertEquals(before, node.memory().residentPages(), "no memory is held");
    }
  }

  @Test
  void aTreeLeftStoppedByADumpThawsWhole() throws IOException {
    String expected;
    try (Node node = node()) {
      expected = finish(node, spawn(node));
    }
    try (Node node = node()) {
      SimProcess root = spawn(node);
      await(() -> root.thread(0).gpr(1) >= 20, "records are sent");
      new Dumper(node, PluginHost.of(node.registry().plugins())).dump(root.pid(),
          tmp.resolve("stopped"), DumpOptions.defaults().withLeaveStopped(true),
          ProgressListener.NONE);
      SimProcess child = child(node, root);
      assertEquals(SimProcess.State.STOPPED, root.state());
      assertEquals(SimProcess.State.STOPPED, child.state());
      node.resumeTree(root.pid());
      assertEquals(SimProcess.State.RUNNING, child.state(), "the child runs on with its root");
      assertEquals(expected, finish(node, root));
    }
  }
}

package dev.accr.npu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.npu.driver.NpuContext;
import dev.accr.npu.plugin.NpuPlugin;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.FailingLatePlugin;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures around the npu state machine: a lock that cannot drain in time, a dump failing
 * after the checkpoint, --leave-running; restores that cannot map or whose save area is
 * damaged leave no process, no context and no device memory behind.
 */
class NpuFailureTest {
  private static final List<String> ARGS = List.of("--steps", "6", "--seed", "3", "--batch",
      "8", "--model-mib", "1", "--npu-us-per-req", "200");

  @TempDir Path tmp;

  private String expected(List<String> args) {
    try (Node a = NpuNodes.node("a", "npu4")) {
      return Scenarios.uninterrupted(a, "npu-infer", args, tmp);
    }
  }

  @Test
  void lockTimingOutFailsTheDumpAndTheProcessContinues() throws Exception {
    // 8 requests of 20 ms: each batch keeps the device busy for 160 ms, the lock waits 20.
    List<String> slow = List.of("--steps", "3", "--seed", "3", "--batch", "8", "--model-mib",
        "1", "--npu-us-per-req", "20000");
    String expected = expected(slow);
    try (Node a = NpuNodes.node("a", "npu4")) {
      SimProcess p = a.create("npu-infer", slow, tmp, 0);
      Scenarios.step(p, 2);
      Path dir = tmp.resolve("images");
      AccrException e = assertThrows(AccrException.class, () -> Scenarios.dump(a, p, dir,
          DumpOptions.defaults().withPluginOptions(Map.of("npu.lock-timeout-ms", "20"))));
      assertEquals(AccrException.FAILED, e.exitCode());
      assertTrue(e.getMessage().contains("timed out after 20 ms"), e.getMessage());
      assertFalse(Files.exists(dir), "no image set");
      assertEquals(NpuContext.State.RUNNING, NpuNodes.npu(a).contexts(p.pid()).getFirst().state());
      assertEquals(expected, Scenarios.finish(a, p), "the process ran on as if never dumped");
    }
  }

  @Test
  void dumpFailingAfterTheCheckpointRestoresTheDeviceInPlace() throws Exception {
    String expected = expected(ARGS);
    try (Node a = NpuNodes.node("a", "npu4")) {
      SimProcess p = a.create("npu-infer", ARGS, tmp, 0);
      Scenarios.step(p, 3);
      long held = NpuNodes.npu(a).usedBytes();
      PluginHost host = PluginHost.of(List.of(new NpuPlugin(),
          new FailingLatePlugin("injected failure after the npu checkpoint")));
      Path dir = tmp.resolve("images");
      AccrException e = assertThrows(AccrException.class, () -> new Dumper(a, host)
          .dump(p.pid(), dir, DumpOptions.defaults(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("injected"), e.getMessage());
      assertFalse(Files.exists(dir));
      assertEquals(held, NpuNodes.npu(a).usedBytes(), "device memory is held again");
      assertTrue(p.memory().vmas().stream().noneMatch(v -> v.name().equals("npu-checkpoint")),
          "the save area is gone");
      assertEquals(expected, Scenarios.finish(a, p));
    }
  }

  @Test
  void leaveRunningKeepsTheProcessAndTheImageRestores() throws Exception {
    String expected = expected(ARGS);
    try (Node a = NpuNodes.node("a", "npu4"); Node b = NpuNodes.node("b", "npu4")) {
      SimProcess p = a.create("npu-infer", ARGS, tmp, 0);
      Scenarios.step(p, 4);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults().withLeaveRunning(true));
      assertEquals(expected, Scenarios.finish(a, p));
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, dir)));
    }
  }

  private Path dumped(String name) throws Exception {
    Path dir = tmp.resolve(name);
    try (Node a = NpuNodes.node("a", "npu4")) {
      SimProcess p = a.create("npu-infer", ARGS, tmp, 0);
      Scenarios.step(p, 3);
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
    }
    return dir;
  }

  private static void assertRestoreLeavesNothing(Node b, Path dir, MappingPolicy policy,
      int exitCode, String mustContain) {
    AccrException e = assertThrows(AccrException.class, () -> new Restorer(b,
        Scenarios.plugins(b)).restore(dir, RestoreOptions.defaults().withMapping(policy)
        .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE));
    assertEquals(exitCode, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains(mustContain), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertTrue(b.processes().isEmpty());
    if (b.topology().getDevicesList().stream().anyMatch(d -> d.getType().equals("npu"))) {
      assertEquals(0, NpuNodes.npu(b).contextCount());
      assertEquals(0, NpuNodes.npu(b).usedBytes(), "no device memory is held");
    }
  }

  @Test
  void restoreWithoutACompatibleNpuIsIncompatible() throws Exception {
    Path dir = dumped("images");
    try (Node cpu = NpuNodes.node("c", "cpu-only"); Node nx3 = NpuNodes.node("x", "npu-nx3")) {
      assertRestoreLeavesNothing(cpu, dir, MappingPolicy.STRICT, AccrException.INCOMPATIBLE,
          "has no npus");
      assertRestoreLeavesNothing(nx3, dir, MappingPolicy.STRICT, AccrException.INCOMPATIBLE,
          "chip nx3 is not nx2");
    }
  }

  @Test
  void smallerNpusNeedRelaxingAndForcedPairsAreFollowed() throws Exception {
    String expected = expected(ARGS);
    Path dir = dumped("images");
    try (Node small = NpuNodes.node("s", "npu-small")) {
      assertRestoreLeavesNothing(small, dir, MappingPolicy.STRICT, AccrException.INCOMPATIBLE,
          "--relax npu-memory");
      Restorer.Result r = new Restorer(small, Scenarios.plugins(small)).restore(dir,
          RestoreOptions.defaults().withMapping(MappingPolicy.of(Map.of(70001, 73003),
              Set.of("npu-memory"))).withStart(RestoreOptions.Start.INLINE),
          ProgressListener.NONE);
      DevicePair pair = r.devices().getFirst();
      assertEquals(List.of(70001, 73003), List.of(pair.imageId(), pair.targetId()));
      assertTrue(pair.differences().toString().contains("npuMemoryBytes"), pair.toString());
      assertEquals(expected, Scenarios.finish(small, r.process()));
    }
  }

  @Test
  void damagedSaveAreaIsCorruptAndHoldsNothing() throws Exception {
    try (Node a = NpuNodes.node("a", "npu4")) {
      SimProcess p = a.create("npu-infer", ARGS, tmp, 0);
      Scenarios.step(p, 2);
      NpuContext c = NpuNodes.npu(a).contexts(p.pid()).getFirst();
      c.lock(5_000);
      long at = c.checkpoint();
      assertEquals(0, NpuNodes.npu(a).usedBytes());
      p.memory().writeLong(at + 40, 1L << 40); // a hostile allocation count
      AccrException e = assertThrows(AccrException.class, c::restoreInPlace);
      assertEquals(AccrException.CORRUPT, e.exitCode(), e.getMessage());
      assertTrue(e.getMessage().contains("allocation count"), e.getMessage());
      assertEquals(0, NpuNodes.npu(a).usedBytes(), "nothing was allocated");
    }
  }
}

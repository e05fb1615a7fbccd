package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.PhaseTimeEntry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A post-copy's downtime phases add up to its downtime, each moment counted once: the
 * target's restore, which runs while the source commits its set (after an index sent before
 * it), is taken off the source's last phases; a restore that begins after the source's stop
 * leaves the gap as "transfer".
 */
class PostCopyPhasesTest {
  /** The source's stop: freeze, devices, memory, then index (when sent before) and sync. */
  private static DumpStatsEntry stop(long... us) {
    String[] names = us.length == 5 ? new String[] {"freeze", "devices", "memory", "index",
        "sync"} : new String[] {"freeze", "devices", "memory", "sync"};
    DumpStatsEntry.Builder b = DumpStatsEntry.newBuilder();
    for (int i = 0; i < us.length; i++) {
      b.addPhases(PhaseTimeEntry.newBuilder().setPhase(names[i]).setTimeUs(us[i]));
    }
    return b.build();
  }

  private static MigrationStepReply target(long plan, long wait, long start) {
    return MigrationStepReply.newBuilder()
        .addPhases(PhaseTimeEntry.newBuilder().setPhase("plan").setTimeUs(plan))
        .addPhases(PhaseTimeEntry.newBuilder().setPhase("wait").setTimeUs(wait))
        .addPhases(PhaseTimeEntry.newBuilder().setPhase("start").setTimeUs(start)).build();
  }

  private static Map<String, Long> byName(List<PhaseTimeEntry> phases) {
    Map<String, Long> m = new LinkedHashMap<>();
    phases.forEach(p -> m.put(p.getPhase(), p.getTimeUs()));
    return m;
  }

  private static long sum(List<PhaseTimeEntry> phases) {
    return phases.stream().mapToLong(PhaseTimeEntry::getTimeUs).sum();
  }

  @Test
  void aRestoreDuringTheSourcesCommitIsTakenOffItsSync() {
    // Stopped 1000 µs here (sync 400); the process ran there 300 µs after the dump returned,
    // after a restore of 600 µs: 300 of them overlapped the sync.
    List<PhaseTimeEntry> phases = Migration.downtimePhases(stop(100, 200, 200, 100, 400), 0,
        300, target(500, 50, 50));
    Map<String, Long> m = byName(phases);
    assertEquals(100L, m.get("sync"));
    assertEquals(0L, m.get("transfer"));
    assertEquals(500L, m.get("target plan"));
    assertEquals(1000 + 300, sum(phases));
  }

  @Test
  void anOverlapLongerThanTheSyncIsTakenOffThePhasesBeforeIt() {
    List<PhaseTimeEntry> phases = Migration.downtimePhases(stop(100, 200, 200, 100, 400), 0,
        100, target(550, 50, 100));
    Map<String, Long> m = byName(phases);
    assertEquals(0L, m.get("sync"));
    assertEquals(0L, m.get("index"));
    assertEquals(100L, m.get("memory"));
    assertEquals(1000 + 100, sum(phases));
  }

  @Test
  void aRestoreAfterAnIndexSentAfterTheStopLeavesTheRestAsTransfer() {
    // An older target: the index went after the dump (150 µs), its restore began later.
    List<PhaseTimeEntry> phases = Migration.downtimePhases(stop(100, 200, 200, 400), 150,
        1000, target(500, 0, 50));
    Map<String, Long> m = byName(phases);
    assertEquals(150L, m.get("index"));
    assertEquals(1000L - 150 - 550, m.get("transfer"));
    assertEquals(400L, m.get("sync"));
    assertEquals(900 + 1000, sum(phases));
  }
}

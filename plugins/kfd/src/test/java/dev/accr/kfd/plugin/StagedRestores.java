package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.engine.RestoreOptions;
import dev.accr.engine.RestorePlan;
import dev.accr.engine.Restorer;
import dev.accr.engine.StagedChain;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;

/** What the staging tests share: a restore from staged pre-copy rounds, and what it read. */
final class StagedRestores {
  private StagedRestores() {}

  /**
   * Stages {@code rounds} on {@code node} as a migration target does, then restores
   * {@code last} (the stop's set, a link after them) with the stage.
   */
  static Restorer.Result restoreStaged(Node node, List<Path> rounds, Path last)
      throws Exception {
    try (StagedChain stage = new StagedChain(node, Scenarios.plugins(node), 2)) {
      for (Path round : rounds) {
        stage.stage(round);
      }
      Restorer restorer = new Restorer(node, Scenarios.plugins(node)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(rounds.size(), plan.stagedLinks(), "the rounds' host memory is staged");
      return restorer.recreate(plan);
    }
  }

  /** Bytes the kfd plugin read from the images. */
  static long kfdBytesRead(Restorer.Result r) {
    return r.stats().getMovedList().stream().filter(m -> m.getSource().equals("kfd"))
        .mapToLong(BytesMovedEntry::getBytesRead).sum();
  }

  /** A restore whose process starts in the caller's thread, on two threads. */
  static RestoreOptions inline() {
    return RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE);
  }
}

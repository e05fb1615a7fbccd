package dev.accr.mixed;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.DumpOptions;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.proto.CoreEntry;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile but correctly framed mixed-pipeline images: a phase no step leaves the program in,
 * and a GPU event set back below the batches already preprocessed. Each restore fails with
 * exit code 3 naming the file and leaves no process.
 */
class MixedHostileImageTest {
  private static final List<String> ARGS = List.of("--steps", "8", "--seed", "4", "--batch",
      "4", "--model-mib", "1");

  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path original;
  private static int pid;

  @BeforeAll
  static void dumpOnce() throws Exception {
    original = shared.resolve("set");
    try (Node a = Scenarios.node("a", "mixed")) {
      SimProcess p = a.create("mixed-pipeline", ARGS, shared, 0);
      Scenarios.step(p, 4);
      pid = p.pid();
      Scenarios.dump(a, p, original, DumpOptions.defaults());
    }
  }

  private static void assertRefused(Path dir, String file, String mustContain) {
    try (Node b = Scenarios.node("b", "mixed")) {
      AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, mustContain, file,
          () -> Scenarios.restore(b, dir));
      assertTrue(e instanceof CorruptImageException c && c.file().equals(file), e.toString());
      assertTrue(b.processes().isEmpty());
    }
  }

  @Test
  void phaseNoStepLeavesIsCorrupt() throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve("phase"));
    ImageEdits.edit(dir, ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setThreads(0, c.getThreads(0).toBuilder().setPc(7)).build());
    assertRefused(dir, "core-" + pid + ".img", "no run reaches");
  }

  @Test
  void eventSetBackBelowThePreprocessedBatchesIsCorrupt() throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve("event"));
    String events = ImageEdits.fileMatching(dir, "kfd-events-\\d+\\.img");
    ImageEdits.edit(dir, events, ImageKind.PLUGIN, KfdEventEntry.parser(),
        e -> e.toBuilder().setSignalCount(0).build());
    assertRefused(dir, events, "batches were preprocessed");
  }
}

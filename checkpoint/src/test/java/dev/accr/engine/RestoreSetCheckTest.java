package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A caller's check of a set runs on the images the restore then uses: a set renamed onto the
 * directory after the check is never what is restored.
 */
class RestoreSetCheckTest {
  @TempDir Path tmp;

  @Test
  void theCheckSeesTheSetThePlanUsesAndASetSwappedInAfterItIsRefused() throws Exception {
    Path checked = tmp.resolve("set");
    Path other = tmp.resolve("other");
    Path cwdA = Files.createDirectories(tmp.resolve("a"));
    Path cwdB = Files.createDirectories(tmp.resolve("b"));
    try (Node node = Scenarios.node("n")) {
      dumpCounter(node, cwdA, checked);
      dumpCounter(node, cwdB, other);
      List<String> seen = new ArrayList<>();
      Restorer restorer = new Restorer(node, Scenarios.plugins(node));
      AccrException e = assertThrows(AccrException.class, () -> {
        RestorePlan plan = restorer.plan(checked, RestoreOptions.defaults(),
            ProgressListener.NONE, set -> {
              seen.add(set.processes().values().iterator().next().core().getCwd());
              // Another set takes the directory's place, as a concurrent dump's rename would.
              Path aside = tmp.resolve("aside");
              Files.move(checked, aside);
              Files.move(other, checked, StandardCopyOption.ATOMIC_MOVE);
            });
        restorer.recreate(plan);
      });
      assertEquals(List.of(cwdA.toString()), seen, "the check ran once, on the set read");
      assertEquals(AccrException.CORRUPT, e.exitCode(), e.getMessage());
      assertTrue(node.processes().isEmpty(), "nothing of either set was restored");
    }
  }

  private static void dumpCounter(Node node, Path cwd, Path dir) throws Exception {
    SimProcess p = node.create("counter", List.of("--mem-mib", "1", "--steps", "20", "--out",
        "c.out"), cwd, 0);
    Scenarios.step(p, 3);
    Scenarios.dump(node, p, dir, DumpOptions.defaults());
  }
}

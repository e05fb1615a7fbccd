package dev.accr.template;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Int64Value;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.DumpOptions;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
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
 * Hostile but correctly framed tmpl-count images: a step beyond the last, and a device
 * register no run of the steps adds up to. Each restore fails with exit code 3 naming the file.
 */
class TemplateHostileImageTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path original;
  private static int pid;

  @BeforeAll
  static void dumpOnce() throws Exception {
    original = shared.resolve("set");
    try (Node a = Scenarios.node("a", "tmpl1")) {
      SimProcess p = a.create("tmpl-count", List.of("--steps", "12"), shared, 0);
      Scenarios.step(p, 5);
      pid = p.pid();
      Scenarios.dump(a, p, original, DumpOptions.defaults());
    }
  }

  private static void assertRefused(Path dir, String file, String mustContain) {
    try (Node b = Scenarios.node("b", "tmpl1")) {
      AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, mustContain, file,
          () -> Scenarios.restore(b, dir));
      assertTrue(e instanceof CorruptImageException c && c.file().equals(file), e.toString());
      assertTrue(b.processes().isEmpty());
    }
  }

  @Test
  void stepBeyondTheLastIsCorrupt() throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve("step"));
    ImageEdits.edit(dir, ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setThreads(0, c.getThreads(0).toBuilder().setGpr(0, 13)).build());
    assertRefused(dir, "core-" + pid + ".img", "out of range");
  }

  @Test
  void registerTheStepsDoNotAddUpToIsCorrupt() throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve("regs"));
    String regs = "tmpl-regs-" + pid + ".img";
    ImageEdits.edit(dir, regs, ImageKind.PLUGIN, Int64Value.parser(),
        v -> Int64Value.of(v.getValue() + 1));
    assertRefused(dir, regs, "add up to");
  }
}

package dev.accr.npu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.DumpOptions;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.npu.proto.NpuDeviceEntry;
import dev.accr.proto.CoreEntry;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile but correctly framed npu-infer images: registers no run reaches, a step count that
 * disagrees with the jobs the npu took, a save area that is not (all) mapped. Each restore
 * fails with exit code 3 naming the file, and leaves no process, context or device memory.
 */
class NpuHostileImageTest {
  private static final List<String> ARGS = List.of("--steps", "6", "--seed", "3", "--batch",
      "8", "--model-mib", "1");

  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path original;
  private static int pid;

  @BeforeAll
  static void dumpOnce() throws Exception {
    original = shared.resolve("set");
    try (Node a = NpuNodes.node("a", "npu4")) {
      SimProcess p = a.create("npu-infer", ARGS, shared, 0);
      Scenarios.step(p, 3);
      pid = p.pid();
      Scenarios.dump(a, p, original, DumpOptions.defaults());
    }
  }

  private Path editCore(String name, UnaryOperator<CoreEntry.Builder> change) throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve(name));
    ImageEdits.edit(dir, ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> change.apply(c.toBuilder()).build());
    return dir;
  }

  private Path editDevices(String name, UnaryOperator<NpuDeviceEntry.Builder> change)
      throws Exception {
    Path dir = ImageEdits.copy(original, tmp.resolve(name));
    ImageEdits.edit(dir, "npu-devices-" + pid + ".img", ImageKind.PLUGIN,
        NpuDeviceEntry.parser(), e -> change.apply(e.toBuilder()).build());
    return dir;
  }

  private static void assertRefused(Path dir, String file, String mustContain) {
    try (Node b = NpuNodes.node("b", "npu4")) {
      AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, mustContain, file,
          () -> Scenarios.restore(b, dir));
      assertTrue(e instanceof CorruptImageException c && c.file().equals(file), e.toString());
      assertTrue(b.processes().isEmpty());
      assertEquals(0, NpuNodes.npu(b).contextCount());
      assertEquals(0, NpuNodes.npu(b).usedBytes(), "no device memory is held");
    }
  }

  @Test
  void batchBeyondTheLastIsCorrupt() throws Exception {
    Path dir = editCore("batch", c -> c.setThreads(0, c.getThreads(0).toBuilder()
        .setGpr(0, 1L << 40)));
    assertRefused(dir, "core-" + pid + ".img", "no run reaches");
  }

  @Test
  void batchTheNpuNeverGotJobsForIsCorrupt() throws Exception {
    // One batch further than the jobs the npu took: its fence would never come.
    Path dir = editCore("fence", c -> c.setThreads(0, c.getThreads(0).toBuilder()
        .setGpr(0, c.getThreads(0).getGpr(0) + 1).setPc(0)));
    assertRefused(dir, "npu-devices-" + pid + ".img", "the npu took");
  }

  @Test
  void saveAreaAtAnUnmappedAddressIsCorrupt() throws Exception {
    // The next save slot: a place a save area may have, but nothing is mapped there.
    Path dir = editDevices("address", e -> e.setSaveAddress(e.getSaveAddress() + (1L << 36)));
    assertRefused(dir, "npu-devices-" + pid + ".img", "not mapped");
  }

  @Test
  void saveAreaLongerThanItsMappingIsCorrupt() throws Exception {
    Path dir = editDevices("length", e -> e.setSaveLength(e.getSaveLength() + (16 << 12)));
    assertRefused(dir, "npu-devices-" + pid + ".img", "not mapped");
  }
}

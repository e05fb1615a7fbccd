package dev.accr.npu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.testkit.PluginTestKit;
import dev.accr.engine.DumpOptions;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.npu.proto.NpuDeviceEntry;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The digest test for npu-infer through the plugin test kit: dumped after many step counts
 * (batches in flight, drained by the lock) and while running freely, restored on the same
 * preset and on others, finished with the uninterrupted digest.
 */
class NpuCheckpointTest {
  @TempDir Path tmp;

  private static List<String> args(int microsPerRequest) {
    return List.of("--steps", "12", "--seed", "7", "--batch", "16", "--model-mib", "2",
        "--npu-us-per-req", "" + microsPerRequest);
  }

  @ParameterizedTest(name = "{0} -> {1}, {2} us per request")
  @CsvSource({"npu4, npu4, 0, 0", "npu4, npu2-large, 300, 25", "npu2-large, npu2-large, 100, 10"})
  void npuInferSurvivesDumpsAtManyMoments(String from, String to, int micros, long millis)
      throws Exception {
    PluginTestKit kit = PluginTestKit.check("npu-infer", args(micros)).from(from).to(to)
        .afterSteps(0, 1, 2, 5, 13, 14).afterRandomSteps(2, 14);
    if (millis > 0) {
      kit.afterMillis(millis); // running freely: the slow device has work in flight
    }
    assertEquals(millis > 0 ? 9 : 8, kit.run(tmp).size());
  }

  @Test
  void dumpRightAfterSubmittingDrainsTheJobsInFlight() throws Exception {
    List<String> args = args(2000); // 32 ms per batch: the lock meets two batches running
    String expected;
    try (Node a = NpuNodes.node("a", "npu4")) {
      expected = Scenarios.uninterrupted(a, "npu-infer", args, tmp);
    }
    try (Node a = NpuNodes.node("a", "npu4"); Node b = NpuNodes.node("b", "npu2-large")) {
      SimProcess p = a.create("npu-infer", args, tmp, 0);
      Scenarios.step(p, 4);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
      List<NpuDeviceEntry> devices = EntryImageCodec.read(dir.resolve("npu-devices-" + p.pid()
          + ".img"), ImageKind.PLUGIN, null).parseAll(NpuDeviceEntry.parser());
      assertEquals(1, devices.size());
      assertTrue(devices.getFirst().getDrainedJobs() > 0, "the lock drained work: " + devices);
      assertTrue(devices.getFirst().getAllocatedBytes() > 2 << 20, devices.toString());
      assertEquals(0, NpuNodes.npu(a).contextCount(), "the dumped process is gone from a");
      assertEquals(0, NpuNodes.npu(a).usedBytes(), "its device memory is released");
      SimProcess restored = Scenarios.restore(b, dir);
      assertEquals(devices.getFirst().getAllocatedBytes(), NpuNodes.npu(b).usedBytes());
      assertEquals(expected, Scenarios.finish(b, restored));
      assertEquals(0, NpuNodes.npu(b).usedBytes());
    }
  }
}

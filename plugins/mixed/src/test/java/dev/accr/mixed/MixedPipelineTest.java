package dev.accr.mixed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.api.testkit.PluginTestKit;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The digest test for mixed-pipeline: a process with GPU dispatches and npu jobs in flight is
 * dumped at many moments, restored on the same preset or on one whose GPUs and npus have other
 * ids (and larger npus), and finishes with the uninterrupted digest.
 */
class MixedPipelineTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "mixed -> {0}, npu {1} us per request, gpu {2} us per workgroup")
  // A timed case's process must outlive its dump: 16 requests of 300 µs a step make each of
  // its 10 steps take about 5 ms (at 100 µs it once ended within the 20 ms before the dump).
  @CsvSource({"mixed, 0, 0", "mixed-other, 300, 20", "mixed, 300, 50"})
  void mixedPipelineSurvivesDumpsAtManyMoments(String to, int npuMicros, int gpuMicros)
      throws Exception {
    String target = to.equals("mixed") ? to
        : Path.of(getClass().getResource("/topologies/" + to + ".json").toURI()).toString();
    List<String> args = List.of("--steps", "10", "--seed", "5", "--batch", "16", "--model-mib",
        "1", "--npu-us-per-req", "" + npuMicros, "--gpu-us-per-wg", "" + gpuMicros);
    PluginTestKit kit = PluginTestKit.check("mixed-pipeline", args).from("mixed").to(target)
        .afterSteps(0, 1, 3, 6, 11).afterRandomSteps(1, 12);
    if (npuMicros > 0) {
      kit.afterMillis(20);
    }
    assertEquals(npuMicros > 0 ? 7 : 6, kit.run(tmp).size());
  }
}

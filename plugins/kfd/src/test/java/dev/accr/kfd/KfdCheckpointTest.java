package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.driver.SdmaEngine;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The digest test for the GPU workloads: a run dumped after some steps (with dispatches in
 * flight, often preempted mid-kernel), restored on a node of the same preset or one whose GPU
 * ids differ, and continued, ends with the digest of an uninterrupted run.
 */
class KfdCheckpointTest {
  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("kfd-train", "mi100x1", "mi100x1", 1, 0, "none"),
        Arguments.of("kfd-train", "mi100x2", "mi100x2", 3, 2, "zstd"),
        Arguments.of("kfd-train", "mi100x2", "mi100x2-renumbered", 7, 20, "none"),
        Arguments.of("kfd-train", "mi250x4", "mi250x4-renumbered", 11, 5, "zstd"),
        Arguments.of("kfd-halo", "mi100x2", "mi100x2", 0, 20, "none"),
        Arguments.of("kfd-halo", "mi100x2", "mi100x2-renumbered", 5, 5, "zstd"),
        Arguments.of("kfd-halo", "mi300x8", "mi300x8", 9, 2, "none"),
        Arguments.of("kfd-halo", "mi250x4", "mi250x4-renumbered", 12, 0, "none"));
  }

  @ParameterizedTest(name = "{0} {1} -> {2} after {3} steps")
  @MethodSource("cases")
  void dumpedAndRestoredRunEndsWithTheUninterruptedDigest(String workload, String from,
      String to, int dumpAfter, int microsPerWorkgroup, String compression) throws Exception {
    int gpus = workload.equals("kfd-halo") && from.startsWith("mi300") ? 4
        : from.startsWith("mi100x1") ? 1 : 2;
    List<String> args = List.of("--gpus", "" + gpus, "--vram-mib", "4", "--steps", "12",
        "--seed", "42", "--gpu-us-per-wg", "" + microsPerWorkgroup);
    String expected;
    try (Node a = KfdNodes.node("a", from)) {
      expected = Scenarios.uninterrupted(a, workload, args, tmp);
    }
    try (Node a = KfdNodes.node("a", from); Node b = KfdNodes.node("b", to)) {
      SimProcess p = a.create(workload, args, tmp, 0);
      Scenarios.step(p, dumpAfter);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(2)
          .withCompression(Compression.parse(compression)));
      assertEquals(0, KfdNodes.kfd(a).processCount(), "the dumped process is gone from a");
      assertEquals(0, KfdNodes.kfd(a).allocatedVramBytes(), "its VRAM is freed");
      SimProcess restored = Scenarios.restore(b, dir);
      assertDevicePagesNameTheTargetGpus(b, restored, gpus);
      assertEquals(expected, Scenarios.finish(b, restored));
      assertTrue(KfdNodes.kfd(b).allocatedVramBytes() == 0);
    }
  }

  @Test
  void dmaPathUsesEverySdmaEngineOfEveryGpuBothWays() throws Exception {
    List<String> args = List.of("--gpus", "2", "--vram-mib", "16", "--steps", "4", "--seed", "3");
    try (Node a = KfdNodes.node("a", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      SimProcess p = a.create("kfd-train", args, tmp, 0);
      Scenarios.step(p, 1);
      List<Gpu> used = gpusOf(a, p);
      Map<SdmaEngine, Long> before = executedBy(used);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(2).withPluginOptions(
          Map.of("kfd.vram-copy", "dma")));
      before.forEach((engine, n) -> assertTrue(engine.batchesExecuted() > n,
          "an SDMA engine copied nothing while dumping"));
      SimProcess restored = Scenarios.restore(b, dir);
      before = executedBy(gpusOf(b, restored));
      assertEquals(4, before.size());
      before.forEach((engine, n) -> assertTrue(n > 0,
          "an SDMA engine of a restored GPU copied nothing while restoring"));
    }
  }

  private static List<Gpu> gpusOf(Node node, SimProcess p) {
    var kfd = KfdNodes.kfd(node).process(p.pid());
    return kfd.gpuIds().stream()
        .map(id -> KfdNodes.kfd(node).gpu(kfd.properties(id).getGpuId())).toList();
  }

  private static Map<SdmaEngine, Long> executedBy(List<Gpu> gpus) {
    Map<SdmaEngine, Long> counts = new java.util.HashMap<>();
    for (Gpu g : gpus) {
      g.sdmaEngines().forEach(e -> counts.put(e, e.batchesExecuted()));
    }
    return counts;
  }

  /** Doorbell and MMIO mappings were moved to the GPUs that now stand for the image's. */
  private static void assertDevicePagesNameTheTargetGpus(Node b, SimProcess restored, int gpus) {
    java.util.Set<Integer> held = new java.util.HashSet<>();
    var kfd = KfdNodes.kfd(b).process(restored.pid());
    for (int id : kfd.gpuIds()) {
      held.add(kfd.properties(id).getGpuId()); // ids stay virtual; properties are the target's
    }
    java.util.Map<String, Integer> pages = new java.util.TreeMap<>();
    for (var vma : restored.memory().vmas()) {
      if (vma.name().equals("kfd-doorbell") || vma.name().equals("kfd-mmio")) {
        pages.merge(vma.name(), 1, Integer::sum);
        int gpu = (int) ((vma.offset() >>> 12) & 0xffffffffL);
        assertTrue(held.contains(gpu), vma + " names gpu " + gpu + ", not one of " + held);
      }
    }
    assertEquals(java.util.Map.of("kfd-doorbell", gpus, "kfd-mmio", gpus), pages);
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * {@code topology show} and {@code topology map}: each device as its type labels it, ids in
 * hex, checked in full for npus; a GPU set's dry run explains, in one line or in JSON, why no
 * mapping exists, and draws the one a relaxed check allows.
 */
class TopologyOutputTest {
  @Test
  void showOfTheNpuPresetIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("topology", "show", "npu4");
    assertEquals(0, r.code(), r.err());
    assertEquals(InspectCommandTest.known("topology-show-npu4.txt"), r.out());
  }

  @Test
  void showOfAGpuPresetNamesTheIsa() {
    CliRun r = accr("topology", "show", "mi250x4");
    assertEquals(0, r.code(), r.err());
    assertEquals("  node 1: kfd 0xbbfd gfx90a (90010), 104 CUs, 64 GiB VRAM (256 MiB visible),"
        + " 2 SDMA, numa 0, renderD128", r.out().lines().filter(l -> l.contains("node 1:"))
        .findFirst().orElseThrow());
  }

  @Test
  void dotOfAnNpuMappingIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("topology", "map", "-D", InspectCommandTest.set("npu-infer").toString(),
        "--to", "npu2-large", "--dot");
    assertEquals(0, r.code(), r.err());
    assertEquals(InspectCommandTest.known("topology-map-npu-infer.dot"), r.out());
  }

  @Test
  void aDryRunOfAGpuSetExplainsWhyNoMappingExists() {
    // kfd-halo dumped on mi250x4 (its programs carry code objects for mi300x8's gfx942 too).
    String halo = TestSets.CHECKED_IN.resolve("v5").resolve("kfd-halo").toString();
    CliRun strict = accr("topology", "map", "-D", halo, "--to", "mi300x8");
    assertEquals(4, strict.code(), strict.err());
    assertTrue(strict.err().strip().startsWith("accr: kfd: cannot place gpu 0x"), strict.err());
    assertTrue(strict.err().contains("cachesCount: image=4 target=292"), strict.err());
    assertEquals(1, strict.err().strip().lines().count(), strict.err());
    CliRun json = accr("topology", "map", "-D", halo, "--to", "mi100x1", "--json");
    assertEquals(4, json.code(), json.err());
    assertTrue(json.out().contains("\"exitCode\": 4") && json.out().contains("mi100x1 has 1"),
        json.out());
    CliRun dot = accr("topology", "map", "-D", halo, "--to", "mi300x8", "--relax", "caches",
        "--dot");
    assertEquals(0, dot.code(), dot.err());
    assertTrue(dot.out().startsWith("digraph mapping {") && dot.out().contains("-> target_")
        && dot.out().contains("XGMI"), dot.out());
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * {@code topology show} and {@code topology map --dot}: each device as its type labels it,
 * ids in hex, checked in full for npus.
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
}

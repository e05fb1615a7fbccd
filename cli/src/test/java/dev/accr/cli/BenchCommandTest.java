package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's side of {@code accr bench}: the benchmarks' own tests are in accr-bench. */
class BenchCommandTest {
  @TempDir Path tmp;

  @Test
  void noMeasuredRunIsAUsageError() {
    CliRun r = accr("bench", "--runs", "0", "--dir", tmp.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--runs must be at least 1"), r.err());
  }

  @Test
  void smallMemoryBenchReportsEveryCase() {
    CliRun r = accr("bench", "--size-mib", "4", "--runs", "1", "--warmup", "1", "--settle-ms",
        "0", "--dir", tmp.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("1 runs each (median, after 1 warm-up)"), r.out());
    for (String c : new String[] {"dump incompressible, none", "restore half zero pages, zstd:1"}) {
      assertTrue(r.out().contains(c), r.out());
    }
  }

  @Test
  void helpListsEachBenchmarkAndItsSettings() {
    CliRun r = accr("bench", "--help");
    assertEquals(0, r.code(), r.err());
    for (String option : new String[] {"--vram", "--gpus N", "--staging-mib MIB", "--dump-only",
        "--plugin-opt"}) {
      assertTrue(r.out().contains(option), r.out());
    }
    String help = r.out().replaceAll("\\s+", " ");
    assertTrue(help.contains("--gpus N GPUs, each with --size-mib of VRAM. (--vram, default: 2)"),
        r.out());
  }

  @Test
  void aSettingOfAnotherBenchmarkIsAUsageError() {
    CliRun r = accr("bench", "--gpus", "2", "--dir", tmp.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--gpus belongs to --vram"), r.err());
  }

  @Test
  void vramSettingsReachTheBenchmark() {
    CliRun r = accr("bench", "--vram", "--dump-only", "--gpus", "1", "--staging-mib", "8",
        "--size-mib", "4", "--runs", "1", "--warmup", "0", "--dir", tmp.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("VRAM 1 GPUs x 4.0 MiB"), r.out());
    assertTrue(r.out().contains("staging 8 MiB"), r.out());
    assertTrue(r.out().contains("dump VRAM dma, zstd:1"), r.out());
    assertFalse(r.out().contains("restore"), r.out());
  }
}

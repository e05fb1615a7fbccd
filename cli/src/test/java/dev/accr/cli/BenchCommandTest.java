package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
  @TempDir Path tmp;

  @Test
  void warmUpRunsAreLeftOutOfTheMedian() {
    Runs runs = new Runs(2, 3);
    assertEquals(5, runs.total());
    assertTrue(!runs.isMeasured(1) && runs.isMeasured(2));
    assertEquals(4.0, runs.median(new double[] {100, 90, 5, 3, 4}));
    assertEquals(3.5, new Runs(1, 4).median(new double[] {100, 5, 3, 4, 2}));
  }

  @Test
  void noMeasuredRunIsAUsageError() {
    CliRun r = accr("bench", "--runs", "0", "--dir", tmp.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--runs must be at least 1"), r.err());
  }

  @Test
  void smallMemoryBenchReportsEveryCase() {
    CliRun r = accr("bench", "--size-mib", "4", "--runs", "1", "--warmup", "1", "--dir",
        tmp.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("1 runs each (median, after 1 warm-up)"), r.out());
    for (String c : new String[] {"dump incompressible, none", "restore half zero pages, zstd:1"}) {
      assertTrue(r.out().contains(c), r.out());
    }
  }
}

package dev.accr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RunsTest {
  @Test
  void warmUpRunsAreLeftOutOfTheMedian() {
    Runs runs = new Runs(2, 3);
    assertEquals(5, runs.total());
    assertTrue(!runs.isMeasured(1) && runs.isMeasured(2));
    assertEquals(4.0, runs.median(new double[] {100, 90, 5, 3, 4}));
    assertEquals(3.5, new Runs(1, 4).median(new double[] {100, 5, 3, 4, 2}));
  }
}

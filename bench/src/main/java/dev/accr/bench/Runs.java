package dev.accr.bench;

import java.util.Arrays;

/**
 * How a benchmark case is repeated: {@code warmup} unmeasured runs (the JIT compiles the
 * case's code), then {@code measured} runs whose median is reported.
 */
record Runs(int warmup, int measured) {
  int total() {
    return warmup + measured;
  }

  /** Whether run {@code i} (counting from 0 over {@link #total}) is measured. */
  boolean isMeasured(int i) {
    return i >= warmup;
  }

  /** The median of the measured runs' values, given for all runs. */
  double median(double[] all) {
    return medianOf(Arrays.copyOfRange(all, warmup, all.length));
  }

  static double medianOf(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}

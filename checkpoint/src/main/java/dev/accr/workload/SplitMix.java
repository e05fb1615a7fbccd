package dev.accr.workload;

/** SplitMix64: the deterministic random numbers workloads keep in their registers. */
public final class SplitMix {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private SplitMix() {}

  /** The next state after {@code state}. */
  public static long next(long state) {
    return state + GOLDEN;
  }

  /** The output for a state. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

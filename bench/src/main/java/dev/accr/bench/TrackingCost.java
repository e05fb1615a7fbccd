package dev.accr.bench;

import dev.accr.api.DeviceFile;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdProcess;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * What write tracking costs a workload's steps: blocks of steps run inline, alternately with
 * tracking off and on (host memory, and the KFD driver's for a GPU workload; each block on
 * starts a new tracking period, so every page's first write in it pays the mark), and the
 * median time per step of each. Alternating blocks, each mode first in every other round,
 * keep a busy machine's drift and the cost of switching out of the difference.
 */
final class TrackingCost {
  private final Registry registry;
  private final Runs runs;
  private final Path dir;
  private final PrintWriter out;

  TrackingCost(Registry registry, Runs runs, Path dir, PrintWriter out) {
    this.registry = registry;
    this.runs = runs;
    this.dir = dir;
    this.out = out;
  }

  /** Measures {@code workload} with {@code args} in blocks of {@code steps} steps. */
  void measure(String topology, String workload, List<String> args, int steps) {
    try (Node node = new Node("bench-track", registry.topologies().load(topology), registry)) {
      SimProcess p = node.create(workload, args, dir, 0);
      KfdProcess kfd = kfd(p);
      int rounds = 2 * runs.total() + 1;
      double[] off = new double[rounds];
      double[] on = new double[rounds];
      for (int i = 0; i < rounds; i++) { // each mode goes first in every other round
        if (i % 2 == 0) {
          off[i] = block(p, kfd, false, steps);
          on[i] = block(p, kfd, true, steps);
        } else {
          on[i] = block(p, kfd, true, steps);
          off[i] = block(p, kfd, false, steps);
        }
      }
      track(p, kfd, false);
      double a = Runs.medianOf(java.util.Arrays.copyOfRange(off, 1, rounds));
      double b = Runs.medianOf(java.util.Arrays.copyOfRange(on, 1, rounds));
      String shown = String.join(" ", args).replaceAll(" --(steps|out) \\S+", "");
      out.printf("  %-60s %10.1f %10.1f %+8.1f %%%n", workload + " " + shown, a, b,
          (b / a - 1) * 100);
      out.flush();
    }
  }

  /** Microseconds per step over {@code steps} steps. */
  private static double block(SimProcess p, KfdProcess kfd, boolean tracked, int steps) {
    track(p, kfd, tracked);
    long t0 = System.nanoTime();
    for (int i = 0; i < steps; i++) {
      if (!p.stepInline()) {
        throw new IllegalStateException(p.workload().name() + " ended during the measurement");
      }
    }
    return (System.nanoTime() - t0) / 1e3 / steps;
  }

  private static void track(SimProcess p, KfdProcess kfd, boolean on) {
    if (on) {
      p.memory().trackWrites("bench");
      if (kfd != null) {
        KfdCriu.startDirtyTracking(kfd);
      }
    } else {
      p.memory().stopTracking();
      if (kfd != null) {
        KfdCriu.stopDirtyTracking(kfd);
      }
    }
  }

  private static KfdProcess kfd(SimProcess p) {
    for (DeviceFile f : p.files().devices().values()) {
      if (f instanceof KfdProcess k) {
        return k;
      }
    }
    return null;
  }
}

package dev.accr.bench;

import dev.accr.api.AccrException;

import dev.accr.engine.Benchmark;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * {@code accr bench --incremental}: host memory of random data, with 1, 5 and 25 % of its
 * pages written between a pre-dump and a dump with the pre-dump as parent. Reports the
 * incremental dump's time, bytes and frozen time as fractions of a full dump's: per run, of
 * the full dump taken just before it (a shared machine's load changes from one minute to the
 * next), the median over runs; and what tracking costs a loop of page stores.
 */
public final class IncrementalBenchmark implements Benchmark {
  private static final long HEAP = 0x1000_0000L;
  private static final int PAGE = 4096;
  private static final int[] PERCENT = {1, 5, 25};

  @Override
  public String name() {
    return "incremental";
  }

  @Override
  public String description() {
    return "incremental dumps of host memory (1, 5 and 25 per cent of pages written) against"
        + " full dumps, and the cost of write tracking";
  }

  @Override
  public List<Setting> settings() {
    return List.of(
        Setting.value("gpus", "N", "2", "GPUs, each with --size-mib of VRAM."),
        Setting.flag("host-only", "Only the host-memory cases."),
        Setting.flag("device-only", "Only the device-memory (KFD VRAM) cases."),
        Setting.flag("tracking-only", "Only what write tracking costs workloads' steps."));
  }

  /** One dump's figures. */
  private record Dump(double seconds, long bytes, double frozenMs) {}

  @Override
  public void run(Parameters p, PrintWriter out) throws IOException {
    boolean host = p.flag("host-only");
    boolean device = p.flag("device-only");
    boolean tracking = p.flag("tracking-only");
    boolean all = !host && !device && !tracking;
    p.intSetting("gpus", 1); // a bad setting is a usage error before anything runs
    List<String> failed = new ArrayList<>();
    if (all || host) {
      part("host memory", () -> host(p, out), out, failed);
    }
    if (all || device) {
      part("device memory", () -> devices(p, out), out, failed);
    }
    if (all || tracking) {
      part("write tracking", () -> stepCosts(p, out), out, failed);
    }
    if (!failed.isEmpty()) {
      // The other parts' figures are printed; the run as a whole did not do what was asked.
      throw AccrException.failed("bench --incremental: %s failed", String.join(", ", failed));
    }
  }

  /** One part of the run, measured and printed; a failure is printed and the others run. */
  private interface Part {
    void run() throws IOException;
  }

  private static void part(String name, Part part, PrintWriter out, List<String> failed) {
    try {
      part.run();
    } catch (IOException | RuntimeException e) {
      out.printf("  %s failed: %s%n", name, e.getMessage());
      out.flush();
      failed.add(name);
    }
  }

  /** What tracking costs the steps of workloads (counter, kfd-serve, kfd-train). */
  private static void stepCosts(Parameters p, PrintWriter out) throws IOException {
    Path dir = Files.createTempDirectory("accr-bench-track-");
    try {
      TrackingCost cost = new TrackingCost(p.registry(), new Runs(p.warmup(), p.runs()), dir,
          out);
      out.printf("write tracking, time per step (medians of %d blocks of each, alternating)%n",
          2 * (p.warmup() + p.runs()));
      out.printf("  %-60s %10s %10s %9s%n", "workload", "off us", "on us", "cost");
      String forever = "1000000000";
      cost.measure("cpu-only", "counter", List.of("--mem-mib", "256", "--steps", forever,
          "--out", dir.resolve("counter.out").toString()), 400);
      cost.measure("cpu-only", "counter", List.of("--mem-mib", "256", "--pages-per-step",
          "256", "--steps", forever, "--out", dir.resolve("counter.out").toString()), 40);
      cost.measure("mi300x8", "kfd-serve", List.of("--gpus", "2", "--weights-mib", "64",
          "--kv-mib", "64", "--requests", "16", "--steps", forever), 20);
      cost.measure("mi300x8", "kfd-train", List.of("--gpus", "2", "--vram-mib", "32",
          "--trainable-fraction", "0.1", "--steps", forever), 10);
    } finally {
      DirectoryTrees.delete(dir);
    }
  }

  /**
   * The device half: {@code kfd-serve} on {@code --gpus} GPUs of {@code --size-mib} of VRAM
   * each (weights and KV cache), then {@code kfd-train} of the same size for contrast (it
   * rewrites all of its weights every step).
   */
  private static void devices(Parameters p, PrintWriter out) throws IOException {
    int gpus = p.intSetting("gpus", 1);
    int kv = Math.max(2, Math.min(64, p.sizeMib() / 16)) & ~1;
    DumpOptions options = DumpOptions.defaults().withLeaveRunning(true)
        .withPluginOptions(p.pluginOptions());
    if (p.threads() > 0) {
      options = options.withThreads(p.threads());
    }
    Path dir = p.dir().resolve("accr-bench-incr-gpu-" + ProcessHandle.current().pid());
    Files.createDirectories(dir);
    try {
      DeviceIncrementalCase device = new DeviceIncrementalCase(p.registry(),
          new Runs(p.warmup(), p.runs()), dir, options, out);
      out.printf("incremental dumps of device memory, %d GPUs x %d MiB (medians of %d runs)%n",
          gpus, p.sizeMib(), p.runs());
      device.run("kfd-serve", "kfd-serve", List.of("--gpus", String.valueOf(gpus),
          "--weights-mib", String.valueOf(Math.max(1, p.sizeMib() - kv)), "--kv-mib",
          String.valueOf(kv)), PERCENT);
      device.run("kfd-train (contrast)", "kfd-train", List.of("--gpus", String.valueOf(gpus),
          "--vram-mib", String.valueOf(p.sizeMib())), new int[0]);
    } finally {
      DirectoryTrees.delete(dir);
    }
  }

  private static void host(Parameters p, PrintWriter out) throws IOException {
    long bytes = (long) p.sizeMib() << 20;
    Runs runs = new Runs(p.warmup(), p.runs());
    Path outFile = Files.createTempFile("accr-bench-", ".out");
    try (Node node = new Node("bench-incr", p.registry().topologies().load("cpu-only"),
        p.registry())) {
      SimProcess process = node.create("counter", List.of("--mem-mib",
          String.valueOf(p.sizeMib()), "--steps", "0", "--out", outFile.toString()),
          outFile.getParent(), 0);
      long pages = bytes / PAGE;
      write(process, 0, pages, 1, 7);
      DumpOptions options = DumpOptions.defaults().withLeaveRunning(true)
          .withPluginOptions(p.pluginOptions());
      if (p.threads() > 0) {
        options = options.withThreads(p.threads());
      }
      Dumper dumper = new Dumper(node, PluginHost.of(node.registry().plugins()));
      Path dir = p.dir().resolve("accr-bench-incr-" + ProcessHandle.current().pid());
      Files.createDirectories(dir);
      try {
        out.printf("incremental dumps of %d MiB of host memory (medians of %d runs)%n",
            p.sizeMib(), runs.measured());
        double[] fullTime = new double[runs.total()];
        double[] fullBytes = new double[runs.total()];
        double[] fullFrozen = new double[runs.total()];
        for (int i = 0; i < runs.total(); i++) {
          Dump d = dump(dumper, process, dir.resolve("full"), options, null);
          fullTime[i] = d.seconds();
          fullBytes[i] = d.bytes();
          fullFrozen[i] = d.frozenMs();
        }
        double ft = runs.median(fullTime);
        double fb = runs.median(fullBytes);
        double ff = runs.median(fullFrozen);
        out.printf("  full dump: %.3f s, %.1f MiB, frozen %.1f ms%n", ft, fb / (1 << 20), ff);
        out.printf("  %-9s %10s %10s %8s %8s %12s %12s%n", "written", "time s", "MiB",
            "time/full", "MiB/full", "frozen ms", "frozen/full");
        Random random = new Random(11);
        for (int percent : PERCENT) {
          double[] t = new double[runs.total()];
          double[] b = new double[runs.total()];
          double[] f = new double[runs.total()];
          double[] tr = new double[runs.total()];
          double[] br = new double[runs.total()];
          double[] fr = new double[runs.total()];
          for (int i = 0; i < runs.total(); i++) {
            Dump full = dump(dumper, process, dir.resolve("full"), options, null);
            Path parent = dir.resolve("pre");
            dumper.preDump(process.pid(), parent, options, ProgressListener.NONE);
            writeRandom(process, pages, percent, random);
            Dump d = dump(dumper, process, dir.resolve("incr"), options, parent);
            DirectoryTrees.delete(parent);
            t[i] = d.seconds();
            b[i] = d.bytes();
            f[i] = d.frozenMs();
            tr[i] = d.seconds() / full.seconds();
            br[i] = (double) d.bytes() / full.bytes();
            fr[i] = d.frozenMs() / full.frozenMs();
          }
          out.printf("  %-9s %10.3f %10.1f %8.3f %8.3f %12.1f %12.3f%n", percent + " %",
              runs.median(t), runs.median(b) / (1 << 20), runs.median(tr), runs.median(br),
              runs.median(f), runs.median(fr));
        }
        tracking(process, pages, runs, out);
      } finally {
        DirectoryTrees.delete(dir);
      }
    } finally {
      Files.deleteIfExists(outFile);
    }
  }

  private static Dump dump(Dumper dumper, SimProcess process, Path dir, DumpOptions options,
      Path parent) throws IOException {
    try {
      long t0 = System.nanoTime();
      DumpStatsEntry s = dumper.withParent(parent, UnaryOperator.identity())
          .dump(process.pid(), dir, options, ProgressListener.NONE);
      return new Dump((System.nanoTime() - t0) / 1e9, s.getBytesWritten(),
          s.getFrozenTimeUs() / 1000.0);
    } finally {
      DirectoryTrees.delete(dir);
    }
  }

  /**
   * What tracking costs stores: the same loop writing one long into each of 25 % of the
   * pages, untracked and tracked (each page written once per period, the costly case).
   */
  private static void tracking(SimProcess process, long pages, Runs runs, PrintWriter out) {
    for (boolean wholePage : new boolean[] {false, true}) {
      double[] off = new double[runs.total()];
      double[] on = new double[runs.total()];
      for (int i = 0; i < runs.total(); i++) {
        process.memory().stopTracking();
        off[i] = timeStores(process, pages, wholePage);
        process.memory().trackWrites("bench");
        on[i] = timeStores(process, pages, wholePage);
      }
      process.memory().stopTracking();
      double a = runs.median(off);
      double b = runs.median(on);
      out.printf("  tracking, %s into 25 %% of the pages: %.2f ms untracked, %.2f ms tracked"
          + " (%+.1f %%)%n", wholePage ? "whole-page writes" : "one store", a, b,
          (b / a - 1) * 100);
    }
  }

  private static double timeStores(SimProcess process, long pages, boolean wholePage) {
    long t0 = System.nanoTime();
    for (long page = 0; page < pages; page += 4) {
      if (wholePage) {
        process.memory().pageForWrite(HEAP + page * PAGE).fill((byte) page);
      } else {
        process.memory().writeLong(HEAP + page * PAGE, page);
      }
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  private static void writeRandom(SimProcess process, long pages, int percent, Random random) {
    long n = pages * percent / 100;
    for (long i = 0; i < n; i++) {
      write(process, Math.floorMod(random.nextLong(), pages), 1, 1, random.nextLong());
    }
  }

  /** Fills {@code count} pages from {@code first}, every {@code stride}-th, with random data. */
  private static void write(SimProcess process, long first, long count, long stride,
      long seed) {
    long state = seed;
    for (long page = first; page < first + count; page += stride) {
      MemorySegment m = process.memory().pageForWrite(HEAP + page * PAGE);
      for (int i = 0; i < PAGE; i += 8) {
        state = SplitMix.next(state);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED, i, SplitMix.mix(state));
      }
    }
  }
}

package dev.accr.bench;

import dev.accr.api.DeviceFile;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * The device half of {@code accr bench --incremental}: a KFD workload with {@code gpus} GPUs
 * of about {@code mibPerGpu} of VRAM each, dumped in full, and dumped after a pre-dump with
 * 1, 5 and 25 % of its VRAM pages written between the two (distinct random pages, written by
 * CPU stores through the visible window, which the driver tracks), and after one step of the
 * workload itself. Every dump leaves the process running; each set (the chain, after a
 * pre-dump) is then restored on a second node, and the restored process killed.
 */
final class DeviceIncrementalCase {
  /**
   * One dump's figures, those of the pre-dump before it (zero for a full dump), and the time
   * to restore the set (the chain of both, after a pre-dump).
   */
  private record Dump(double seconds, long bytes, double frozenMs, double preSeconds,
      double preFrozenMs, double restoreSeconds) {}

  private final Registry registry;
  private final Runs runs;
  private final Path dir;
  private final DumpOptions options;
  private final PrintWriter out;
  /** Where sets are restored. */
  private Node target;

  DeviceIncrementalCase(Registry registry, Runs runs, Path dir, DumpOptions options,
      PrintWriter out) {
    this.registry = registry;
    this.runs = runs;
    this.dir = dir;
    this.options = options;
    this.out = out;
  }

  /** Runs the cases of {@code workload} started with {@code args}. */
  void run(String label, String workload, List<String> args, int[] percents) throws IOException {
    try (Node node = new Node("bench-incr-gpu", registry.topologies().load("mi300x8"),
        registry);
        Node target = new Node("bench-incr-gpu-b", registry.topologies().load("mi300x8"),
            registry)) {
      this.target = target;
      List<String> all = new ArrayList<>(args);
      all.addAll(List.of("--steps", "1000000"));
      SimProcess process = node.create(workload, all, dir, 0);
      for (int i = 0; i < 3; i++) { // past loading: its first steps wait for the load to end
        process.stepInline();
      }
      KfdProcess kfd = kfd(process);
      long vram = KfdCriu.vramExtents(kfd).stream().mapToLong(KfdCriu.VramExtent::length).sum();
      Dumper dumper = new Dumper(node, PluginHost.of(registry.plugins()));
      out.printf("%s: %s, %d GPUs, %.0f MiB of VRAM in all%n", label, workload,
          kfd.gpuIds().size(), vram / 1048576.0);
      Dump[] full = new Dump[runs.total()];
      for (int i = 0; i < runs.total(); i++) {
        full[i] = dump(dumper, process, null);
      }
      Dump f = median(full);
      out.printf("  full dump: %.3f s, %.1f MiB, frozen %.1f ms; its restore %.3f s%n",
          f.seconds(), f.bytes() / 1048576.0, f.frozenMs(), f.restoreSeconds());
      out.printf("  %-13s %8s %9s %8s %8s %10s %11s %10s %10s %10s %8s%n", "written", "time s",
          "MiB", "time/full", "MiB/full", "frozen ms", "frozen/full", "pre s", "pre frz ms",
          "restore s", "rst/full");
      // Steps first: the random writes below break the workload's own data (block tables).
      Dump[] step = new Dump[runs.total()];
      for (int i = 0; i < runs.total(); i++) {
        step[i] = dumpAfterPreDump(dumper, process, process::stepInline);
      }
      row("1 step", median(step), f);
      Random random = new Random(13);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment page = arena.allocate(4096, 4096);
        for (int percent : percents) {
          Dump[] d = new Dump[runs.total()];
          for (int i = 0; i < runs.total(); i++) {
            d[i] = dumpAfterPreDump(dumper, process, () -> writePages(kfd, percent, random, page));
          }
          row(percent + " %", median(d), f);
        }
      }
      out.flush();
    }
  }

  private void row(String what, Dump d, Dump full) {
    out.printf("  %-13s %8.3f %9.1f %8.3f %8.3f %10.1f %11.3f %10.3f %10.1f %10.3f %8.3f%n",
        what, d.seconds(), d.bytes() / 1048576.0, d.seconds() / full.seconds(),
        (double) d.bytes() / full.bytes(), d.frozenMs(), d.frozenMs() / full.frozenMs(),
        d.preSeconds(), d.preFrozenMs(), d.restoreSeconds(),
        d.restoreSeconds() / full.restoreSeconds());
    out.flush();
  }

  private Dump dumpAfterPreDump(Dumper dumper, SimProcess process, Runnable between)
      throws IOException {
    Path parent = dir.resolve("pre");
    try {
      long t0 = System.nanoTime();
      DumpStatsEntry pre = dumper.preDump(process.pid(), parent, options, ProgressListener.NONE);
      double preSeconds = (System.nanoTime() - t0) / 1e9;
      between.run();
      Dump d = dump(dumper, process, parent);
      return new Dump(d.seconds(), d.bytes(), d.frozenMs(), preSeconds,
          pre.getFrozenTimeUs() / 1000.0, d.restoreSeconds());
    } finally {
      DirectoryTrees.delete(parent);
    }
  }

  private Dump dump(Dumper dumper, SimProcess process, Path parent) throws IOException {
    Path images = dir.resolve(parent == null ? "full" : "incr");
    try {
      long t0 = System.nanoTime();
      DumpStatsEntry s = dumper.withParent(parent, UnaryOperator.identity())
          .dump(process.pid(), images, options, ProgressListener.NONE);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long stored = s.getMovedList().stream().mapToLong(BytesMovedEntry::getBytesStored).sum();
      return new Dump(seconds, stored, s.getFrozenTimeUs() / 1000.0, 0, 0, restore(images));
    } finally {
      if (Files.exists(images)) {
        DirectoryTrees.delete(images);
      }
    }
  }

  /** Seconds to restore the set in {@code images} (and its parents) on the target node. */
  private double restore(Path images) throws IOException {
    long t0 = System.nanoTime();
    Restorer.Result r;
    try {
      r = new Restorer(target, PluginHost.of(registry.plugins())).restore(images,
          RestoreOptions.defaults().withThreads(options.threads())
              .withPluginOptions(options.pluginOptions())
              .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE);
    } catch (RuntimeException e) { // figures go on; the failure is shown
      out.printf("  restore of %s failed: %s%n", images.getFileName(), e);
      return Double.NaN;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    target.kill(r.process().pid());
    return seconds;
  }

  private Dump median(Dump[] all) {
    return new Dump(runs.median(pick(all, 0)), (long) runs.median(pick(all, 1)),
        runs.median(pick(all, 2)), runs.median(pick(all, 3)), runs.median(pick(all, 4)),
        runs.median(pick(all, 5)));
  }

  private static double[] pick(Dump[] all, int field) {
    double[] v = new double[all.length];
    for (int i = 0; i < all.length; i++) {
      Dump d = all[i];
      v[i] = switch (field) {
        case 0 -> d.seconds();
        case 1 -> d.bytes();
        case 2 -> d.frozenMs();
        case 3 -> d.preSeconds();
        case 4 -> d.preFrozenMs();
        default -> d.restoreSeconds();
      };
    }
    return v;
  }

  /**
   * Writes {@code percent} % of the pages of the process's VRAM buffers (distinct pages picked
   * at random) with random data through the CPU-visible window.
   */
  private static void writePages(KfdProcess kfd, int percent, Random random,
      MemorySegment page) {
    List<KfdCriu.VramExtent> buffers = KfdCriu.vramExtents(kfd); // kfd-serve: buffers only
    long pages = buffers.stream().mapToLong(e -> e.length() / 4096).sum();
    long n = pages * percent / 100;
    BitSet chosen = new BitSet((int) pages);
    long state = random.nextLong();
    for (long written = 0; written < n; ) {
      int index = random.nextInt((int) pages);
      if (chosen.get(index)) {
        continue;
      }
      chosen.set(index);
      written++;
      for (int i = 0; i < 4096; i += 8) {
        state = SplitMix.next(state);
        page.set(ValueLayout.JAVA_LONG_UNALIGNED, i, SplitMix.mix(state));
      }
      kfd.cpuWrite(address(buffers, index), page);
    }
  }

  /** The GPU address of page {@code index} counted over {@code extents} in order. */
  private static long address(List<KfdCriu.VramExtent> extents, long index) {
    long left = index * 4096;
    for (KfdCriu.VramExtent e : extents) {
      if (left < e.length()) {
        return e.va() + left;
      }
      left -= e.length();
    }
    throw new IllegalArgumentException("page " + index + " is beyond the buffers");
  }

  private static KfdProcess kfd(SimProcess p) {
    for (DeviceFile f : p.files().devices().values()) {
      if (f instanceof KfdProcess k) {
        return k;
      }
    }
    throw new IllegalStateException("process " + p.pid() + " has no /dev/kfd open");
  }
}

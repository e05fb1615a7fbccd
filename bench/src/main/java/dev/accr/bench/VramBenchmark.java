package dev.accr.bench;

import dev.accr.api.Sizes;
import dev.accr.image.DirectoryTrees;
import dev.accr.api.DeviceFile;
import dev.accr.engine.Benchmark;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.engine.Restorer;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.engine.RestoreOptions;
import dev.accr.kernel.Registry;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The VRAM benchmark: a process with {@code --gpus} KFD GPUs of {@code --size-mib} of VRAM each
 * (random contents, on an mi300x8 node whose VRAM is all CPU-visible so both paths apply) is
 * dumped and restored through the DMA path and the CPU path, compressed and not. In the same
 * run: an in-JVM copy of the same total size (the baseline) and dumps of host memory of that
 * size (the target for the DMA path), which alternate with the VRAM dumps when memory allows.
 * Reports the node's peak heap and its resident memory beyond the simulated memory while
 * dumping. Restores are skipped, and said to be, when the machine's available memory cannot
 * hold one beside the dumped process. Each restore is also given as a ratio to the dump of the
 * same case: of their medians, and the median of each run's restore to the dump just before it;
 * the restores reuse the device memory of the process restored before them (as a
 * GPU's memory stays when buffers are freed), and one more restore of the DMA path runs on a
 * node whose GPUs never held any, so that host page faults of new memory show too.
 */
public final class VramBenchmark implements Benchmark {
  /** Far above the workload's own buffers and SVM range. */
  private static final long VA = 0x100_0000_0000L;
  /** The KFD plugin's staging budget, which {@code --staging-mib} sets. */
  private static final String STAGING_OPTION = "kfd.staging-mib";

  /** The machine's available memory in bytes, 0 when unknown: what decides the restores. */
  private final LongSupplier available;

  public VramBenchmark() {
    this(MemoryWatch::available);
  }

  /** A benchmark that takes the machine's available memory from {@code available}. */
  VramBenchmark(LongSupplier available) {
    this.available = available;
  }

  @Override
  public String name() {
    return "vram";
  }

  @Override
  public String description() {
    return "Dump and restore throughput of GPU memory through the DMA and CPU paths.";
  }

  @Override
  public List<Setting> settings() {
    return List.of(
        Setting.value("gpus", "N", "2", "GPUs, each with --size-mib of VRAM."),
        Setting.value("staging-mib", "MIB", "64", "Staging buffers of the DMA path, passed as"
            + " " + STAGING_OPTION + " unless --plugin-opt gives it."),
        Setting.flag("dump-only", "Only dumps through the DMA path, without the baseline,"
            + " host-memory or restore cases, so that the node's memory while dumping large"
            + " VRAM can be shown with a small -Xmx."));
  }

  @Override
  public void run(Parameters parameters, PrintWriter out) throws IOException {
    new Run(parameters, out, available).all();
  }

  /** One run of every case: what it was given and what it measured on the way. */
  private static final class Run {
    private final LongSupplier available;
    private final int gpus;
    private final long perGpu;
    private final long bytes;
    private final Path dir;
    private final Runs runs;
    private final int threads;
    /** The user's plugin options with the staging budget; each case adds its copy path. */
    private final Map<String, String> pluginOptions;
    private final boolean dumpOnly;
    private final PrintWriter out;
    private final Registry registry;
    private double baselineGbps = Double.NaN;
    /** Whether each dump is followed by a restore on a second node (not in the budget run). */
    private boolean restores;

    Run(Parameters p, PrintWriter out, LongSupplier available) {
      this.available = available;
      this.registry = p.registry();
      this.gpus = p.intSetting("gpus", 1);
      this.perGpu = (long) p.sizeMib() << 20;
      this.bytes = perGpu * gpus;
      this.dir = p.dir();
      this.runs = new Runs(p.warmup(), p.runs());
      this.threads = p.threads() > 0 ? p.threads() : DumpOptions.defaultThreads();
      this.pluginOptions = new LinkedHashMap<>(p.pluginOptions());
      pluginOptions.putIfAbsent(STAGING_OPTION, p.setting("staging-mib"));
      this.dumpOnly = p.flag("dump-only");
      this.out = out;
    }

    void all() throws IOException {
      out.printf("VRAM %d GPUs x %s, %d runs each (median, after %d warm-up), %d threads, staging"
          + " %s MiB, images in %s, max heap %s%n", gpus, Sizes.bytes(perGpu), runs.measured(),
          runs.warmup(), threads, pluginOptions.get(STAGING_OPTION), dir,
          Sizes.bytes(Runtime.getRuntime().maxMemory()));
      out.printf("%-36s %10s %10s %8s %10s %12s%n", "case", "median ms", "GB/s", "x copy",
          "peak heap", "extra RSS");
      if (dumpOnly) { // the budget run: nothing beside the process's VRAM and the dump itself
        for (String c : List.of("none", "zstd:1")) {
          measure("dma", Compression.parse(c), null, Double.NaN);
        }
        return;
      }
      // A restore runs beside the dumped process: its VRAM, the image and the restored VRAM.
      long restoreNeeds = 3 * bytes + (1L << 30);
      long available = this.available.getAsLong();
      restores = available <= 0 || restoreNeeds <= available;
      if (!restores) {
        out.printf("restores skipped: restoring beside the dumped process needs about %s, %s"
            + " available%n", Sizes.bytes(restoreNeeds), Sizes.bytes(available));
      }
      baselineGbps = MemoryBenchmark.baseline(bytes, runs);
      out.printf("%-36s %10.1f %10.2f %8.2f%n", "in-JVM memory copy (baseline)",
          bytes / baselineGbps / 1e6, baselineGbps, 1.0);
      out.flush();
      // Host dumps alternate with the VRAM dumps when the host process fits beside them;
      // otherwise they all run first and the host process is gone before the VRAM cases.
      long vramCaseNeeds = restores ? restoreNeeds : 2 * bytes + (1L << 30); // VRAM and image
      boolean alternate = available <= 0 || vramCaseNeeds + bytes <= available;
      if (!alternate) {
        double hostGbps;
        try (HostDumpTarget host = new HostDumpTarget(registry, bytes, dir, threads)) {
          for (int i = 0; i < runs.total(); i++) {
            host.dump(runs.isMeasured(i));
          }
          hostGbps = reportHost(host, "dump host memory, none (target)");
        }
        forEachCase((mode, c) -> measure(mode, c, null, hostGbps));
        return;
      }
      try (HostDumpTarget host = new HostDumpTarget(registry, bytes, dir, threads)) {
        forEachCase((mode, c) -> measure(mode, c, host, Double.NaN));
        reportHost(host, "dump host memory, none (target)*");
        out.printf("* each host dump ran just before a VRAM dump; a VRAM dump's ratio is to the"
            + " host dumps beside it%n");
      }
    }

    private interface Case {
      void run(String mode, Compression compression) throws IOException;
    }

    private static void forEachCase(Case c) throws IOException {
      for (String mode : List.of("dma", "cpu")) {
        for (String compression : List.of("none", "zstd:1")) {
          c.run(mode, Compression.parse(compression));
        }
      }
    }

    private double reportHost(HostDumpTarget host, String name) {
      double gbps = Runs.medianOf(host.all());
      out.printf("%-36s %10.1f %10.2f %8.2f%n", name, bytes / gbps / 1e6, gbps,
          gbps / baselineGbps);
      out.flush();
      return gbps;
    }

    /**
     * Dumps (and restores, when memory allows) through one path. With {@code alternateWith}, a
     * host dump runs before each VRAM dump and the ratio is to those host dumps; else to
     * {@code hostGbps}.
     */
    private void measure(String mode, Compression compression, HostDumpTarget alternateWith,
        double hostGbps) throws IOException {
      double[] dump = new double[runs.total()];
      double[] hostDumps = new double[runs.total()];
      double[] restore = new double[runs.total()];
      long heapPeak = 0;
      long rssExtra = 0;
      double newMemory = Double.NaN;
      try (Node a = new Node("bench-a", registry.topologies().load("mi300x8"), registry);
          Node b = new Node("bench-b", registry.topologies().load("mi300x8"), registry)) {
        SimProcess p = a.create("kfd-train", List.of("--gpus", String.valueOf(gpus),
            "--vram-mib", "2", "--steps", "0"), dir, 0);
        fill(p);
        PluginHost plugins = PluginHost.of(registry.plugins());
        Map<String, String> options = new LinkedHashMap<>(pluginOptions);
        options.put("kfd.vram-copy", mode);
        DumpOptions dumpOptions = DumpOptions.defaults().withThreads(threads)
            .withCompression(compression).withLeaveRunning(true).withPluginOptions(options);
        for (int i = 0; i < runs.total(); i++) {
          Path images = dir.resolve("accr-bench-vram-" + ProcessHandle.current().pid());
          if (alternateWith != null) {
            hostDumps[i] = alternateWith.dump(runs.isMeasured(i));
          }
          try {
            try (MemoryWatch watch = new MemoryWatch()) {
              long t = System.nanoTime();
              new Dumper(a, plugins).dump(p.pid(), images, dumpOptions, ProgressListener.NONE);
              dump[i] = bytes / (double) (System.nanoTime() - t);
              if (runs.isMeasured(i)) { // a warm-up run also grows code cache and thread stacks
                heapPeak = Math.max(heapPeak, watch.heapPeak());
                rssExtra = Math.max(rssExtra, watch.rssGrowth());
              }
            }
            // Outside the watch: its sampling thread would take a core from the restore.
            if (restores) {
              long t = System.nanoTime();
              Restorer.Result r = new Restorer(b, plugins).restore(images,
                  RestoreOptions.defaults().withThreads(threads).withPluginOptions(options)
                      .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE);
              restore[i] = bytes / (double) (System.nanoTime() - t);
              b.kill(r.process().pid());
            }
          } finally {
            DirectoryTrees.delete(images);
          }
        }
        if (restores && "dma".equals(mode)) {
          newMemory = restoreOnNewNode(a, p, plugins, dumpOptions, options);
        }
      }
      String name = mode + ", " + compression;
      double d = runs.median(dump);
      double target = alternateWith != null ? runs.median(hostDumps) : hostGbps;
      out.printf("%-36s %10.1f %10.2f %8s %10s %12s%s%n", "dump VRAM " + name, bytes / d / 1e6, d,
          dumpOnly ? "-" : String.format("%.2f", d / baselineGbps), Sizes.bytes(heapPeak),
          Sizes.bytes(rssExtra), dumpOnly ? "" : String.format("   (%.2f of host dump)",
              d / target));
      if (restores) {
        double r = runs.median(restore);
        // Each restore runs just after its dump: their ratio, run by run, is what the load of
        // the moment affects least (it changes over a run of many seconds).
        double[] paired = new double[runs.total()];
        for (int i = 0; i < paired.length; i++) {
          paired[i] = restore[i] / dump[i];
        }
        out.printf("%-36s %10.1f %10.2f %8.2f   (%.2f of dump; %.2f run by run)%n",
            "restore VRAM " + name, bytes / r / 1e6, r, r / baselineGbps, r / d,
            runs.median(paired));
      }
      if (!Double.isNaN(newMemory)) {
        out.printf("%-36s %10.1f %10.2f %8.2f   (1 run)%n", "  into device memory never used",
            bytes / newMemory / 1e6, newMemory, newMemory / baselineGbps);
      }
      out.flush();
    }

    /**
     * One more dump of {@code p}, restored on a node of its own whose GPUs never held VRAM:
     * every block of the restored VRAM is host memory faulted in for the first time, where the
     * measured restores reuse the blocks of the process restored before (a GPU keeps the memory
     * of freed buffers). Returns GB/s, or NaN when memory is short for a third node's copy.
     */
    private double restoreOnNewNode(Node a, SimProcess p, PluginHost plugins,
        DumpOptions dumpOptions, Map<String, String> options) throws IOException {
      long available = this.available.getAsLong();
      if (available > 0 && 4 * bytes + (1L << 30) > available) {
        return Double.NaN;
      }
      Path images = dir.resolve("accr-bench-vram-" + ProcessHandle.current().pid());
      try (Node c = new Node("bench-c", registry.topologies().load("mi300x8"), registry)) {
        new Dumper(a, plugins).dump(p.pid(), images, dumpOptions, ProgressListener.NONE);
        long t = System.nanoTime();
        Restorer.Result r = new Restorer(c, plugins).restore(images,
            RestoreOptions.defaults().withThreads(threads).withPluginOptions(options)
                .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE);
        double gbps = bytes / (double) (System.nanoTime() - t);
        c.kill(r.process().pid());
        return gbps;
      } finally {
        DirectoryTrees.delete(images);
      }
    }

    /** Fills one CPU-visible VRAM buffer per GPU with random data. */
    private void fill(SimProcess p) {
      KfdProcess kfd = null;
      for (DeviceFile f : p.files().devices().values()) {
        if (f instanceof KfdProcess k) {
          kfd = k;
        }
      }
      long state = 99;
      for (int g = 0; g < gpus; g++) {
        int id = kfd.gpuIds().get(g);
        Bo bo = kfd.buffer(kfd.allocVram(id, VA + g * 0x10_0000_0000L, perGpu,
            Bo.FLAG_CPU_VISIBLE));
        for (long off = 0; off < perGpu; off += 4096) {
          MemorySegment page = bo.gpu().vram().forWrite(bo.vramOffset() + off, 4096);
          for (int i = 0; i < 4096; i += 8) {
            state = SplitMix.next(state);
            page.set(ValueLayout.JAVA_LONG_UNALIGNED, i, SplitMix.mix(state));
          }
        }
      }
    }
  }
}

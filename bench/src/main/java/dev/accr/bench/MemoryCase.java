package dev.accr.bench;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.Compression;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One case of the memory benchmark: a process dumped and restored {@code runs.total()} times,
 * each dump followed by the machine's limits for the same bytes (written, read back, read into
 * fresh memory) and then the restore, so that a slow spell of a shared machine slows a figure
 * and the limit it is compared with alike.
 */
final class MemoryCase {
  /**
   * Per run: times in ns, heap in bytes; limits as ns for the bytes the dump wrote; this JVM's
   * CPU time during the dump and during the write limit.
   */
  record Figures(double[] dumpNs, double[] restoreNs, double[] writeLimitNs,
      double[] readLimitNs, double[] freshLimitNs, double[] dumpHeap, double[] restoreHeap,
      CpuTime[] dumpCpu, CpuTime[] writeLimitCpu, long written) {}

  private final Registry registry;
  private final Runs runs;
  private final int threads;
  private final Path dir;
  private final Map<String, String> pluginOptions;
  private final boolean limits;
  private final long settleMs;

  MemoryCase(Registry registry, Runs runs, int threads, Path dir,
      Map<String, String> pluginOptions, boolean limits, long settleMs) {
    this.settleMs = settleMs;
    this.registry = registry;
    this.runs = runs;
    this.threads = threads;
    this.dir = dir;
    this.pluginOptions = pluginOptions;
    this.limits = limits;
  }

  /** Creates a process on a node, lets {@code fill} write its memory, and measures it. */
  Figures measure(String workloadArgs, Consumer<SimProcess> fill, Compression compression)
      throws IOException {
    int n = runs.total();
    Figures f = new Figures(new double[n], new double[n], new double[n], new double[n],
        new double[n], new double[n], new double[n], new CpuTime[n], new CpuTime[n], 0);
    long written = 0;
    MachineLimits machine = null;
    try (Node a = new Node("bench-a", registry.topologies().load("cpu-only"), registry);
        Node b = new Node("bench-b", registry.topologies().load("cpu-only"), registry)) {
      Path outFile = Files.createTempFile("accr-bench-", ".out");
      try {
        List<String> args = new ArrayList<>(
            List.of(workloadArgs.split(" ")));
        args.addAll(List.of("--steps", "0", "--out", outFile.toString()));
        SimProcess p = a.create("counter", args, outFile.getParent(), 0);
        fill.accept(p);
        PluginHost plugins = PluginHost.of(registry.plugins());
        DumpOptions options = DumpOptions.defaults().withThreads(threads)
            .withCompression(compression).withLeaveRunning(true).withPluginOptions(pluginOptions);
        for (int i = 0; i < n; i++) {
          Path images = dir.resolve("accr-bench-" + ProcessHandle.current().pid());
          try {
            long heapBefore = settledHeap();
            CpuTime cpu = CpuTime.ofThisJvm();
            long t = System.nanoTime();
            DumpStatsEntry s;
            try (MemoryWatch watch = MemoryWatch.heapOnly()) {
              s = new Dumper(a, plugins).dump(p.pid(), images, options, ProgressListener.NONE);
              f.dumpNs()[i] = System.nanoTime() - t;
              f.dumpCpu()[i] = CpuTime.ofThisJvm().since(cpu);
              f.dumpHeap()[i] = watch.heapPeak() - heapBefore;
            }
            written = s.getBytesWritten();
            if (limits) {
              if (machine == null) {
                machine = new MachineLimits(dir, threads, written);
              }
              cpu = CpuTime.ofThisJvm();
              f.writeLimitNs()[i] = written / machine.write();
              f.writeLimitCpu()[i] = CpuTime.ofThisJvm().since(cpu);
              f.readLimitNs()[i] = written / machine.read();
              settle();
              f.freshLimitNs()[i] = written / machine.readIntoFreshMemory();
              machine.deleteFiles(); // images in memory: the restore gets the room back
              settle();
            }
            heapBefore = settledHeap();
            try (MemoryWatch watch = MemoryWatch.heapOnly()) {
              t = System.nanoTime();
              Restorer.Result r = new Restorer(b, plugins).restore(images,
                  RestoreOptions.defaults().withThreads(threads).withPluginOptions(pluginOptions)
                      .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE);
              f.restoreNs()[i] = System.nanoTime() - t;
              f.restoreHeap()[i] = watch.heapPeak() - heapBefore;
              b.kill(r.process().pid());
            }
          } finally {
            DirectoryTrees.delete(images);
          }
        }
      } finally {
        if (machine != null) {
          machine.close();
        }
        Files.deleteIfExists(outFile);
      }
    }
    return new Figures(f.dumpNs(), f.restoreNs(), f.writeLimitNs(), f.readLimitNs(),
        f.freshLimitNs(), f.dumpHeap(), f.restoreHeap(), f.dumpCpu(), f.writeLimitCpu(),
        written);
  }

  /**
   * Waits until memory freed by the step before has gone back to the system: on a virtual
   * machine that reports free pages to its host (as this project's build machine does, after
   * about 2 s) memory freed a moment ago is much faster to touch again than fresh memory, and
   * the read-into-fresh-memory limit and the restore must both meet memory in the same state.
   */
  private void settle() {
    try {
      Thread.sleep(settleMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Heap in use after a full collection: what a dump's or restore's peak is measured from. */
  private static long settledHeap() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    memory.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }
}

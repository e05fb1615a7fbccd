package dev.accr.bench;

import dev.accr.api.Sizes;
import dev.accr.image.DirectoryTrees;
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
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The memory benchmark: a baseline copy, then for two kinds of content (incompressible;
 * half zero pages, a quarter smooth numbers, a quarter random) dump and restore of a process
 * of {@code --size-mib} of memory, with and without zstd. Images are deleted after each run.
 */
public final class MemoryBenchmark implements Benchmark {
  private static final int PAGE = 4096;
  private static final long HEAP = 0x1000_0000L;

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public String description() {
    return "Dump and restore throughput of process memory.";
  }

  @Override
  public void run(Parameters parameters, PrintWriter out) throws IOException {
    new Run(parameters, out).all();
  }

  /** GB/s of a plain in-JVM copy of {@code bytes}, median of {@code runs}: the baseline. */
  static double baseline(long bytes, Runs runs) {
    double[] gbps = new double[runs.total()];
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment src = arena.allocate(bytes, PAGE);
      MemorySegment dst = arena.allocate(bytes, PAGE);
      src.fill((byte) 1);
      dst.fill((byte) 0);
      for (int i = 0; i < runs.total(); i++) {
        long t = System.nanoTime();
        MemorySegment.copy(src, 0, dst, 0, bytes);
        gbps[i] = bytes / (double) (System.nanoTime() - t);
      }
    }
    return runs.median(gbps);
  }

  /** One run of every case: what it was given and the baseline it measured. */
  private static final class Run {
    private final long bytes;
    private final Path dir;
    private final Runs runs;
    private final int threads;
    private final Map<String, String> pluginOptions;
    private final PrintWriter out;
    private final Registry registry;
    private double baselineGbps;

    Run(Parameters p, PrintWriter out) {
      this.registry = p.registry();
      this.bytes = (long) p.sizeMib() << 20;
      this.dir = p.dir();
      this.runs = new Runs(p.warmup(), p.runs());
      this.threads = p.threads() > 0 ? p.threads() : DumpOptions.defaultThreads();
      this.pluginOptions = p.pluginOptions();
      this.out = out;
    }

    void all() throws IOException {
      baselineGbps = baseline(bytes, runs);
      out.printf("memory %s, %d runs each (median, after %d warm-up), %d threads, images in %s%n",
          Sizes.bytes(bytes), runs.measured(), runs.warmup(), threads, dir);
      out.printf("%-34s %10s %10s %8s%n", "case", "median ms", "GB/s", "x copy");
      out.printf("%-34s %10.1f %10.2f %8.2f%n", "in-JVM memory copy (baseline)",
          bytes / baselineGbps / 1e6, baselineGbps, 1.0);
      measure("incompressible", false, Compression.NONE);
      measure("incompressible", false, Compression.parse("zstd:1"));
      measure("half zero pages", true, Compression.NONE);
      measure("half zero pages", true, Compression.parse("zstd:1"));
    }

    private void measure(String content, boolean mixed, Compression compression)
        throws IOException {
      double[] dump = new double[runs.total()];
      double[] restore = new double[runs.total()];
      long written = 0;
      try (Node a = new Node("bench-a", registry.topologies().load("cpu-only"), registry);
          Node b = new Node("bench-b", registry.topologies().load("cpu-only"), registry)) {
        Path outFile = Files.createTempFile("accr-bench-", ".out");
        SimProcess p = a.create("counter", List.of("--mem-mib", String.valueOf(bytes >> 20),
            "--steps", "0", "--out", outFile.toString()), outFile.getParent(), 0);
        fill(p, mixed);
        PluginHost plugins = PluginHost.of(registry.plugins());
        DumpOptions options = DumpOptions.defaults().withThreads(threads)
            .withCompression(compression).withLeaveRunning(true).withPluginOptions(pluginOptions);
        for (int i = 0; i < runs.total(); i++) {
          Path images = dir.resolve("accr-bench-" + ProcessHandle.current().pid());
          try {
            long t = System.nanoTime();
            DumpStatsEntry s = new Dumper(a, plugins).dump(p.pid(), images, options,
                ProgressListener.NONE);
            dump[i] = bytes / (double) (System.nanoTime() - t);
            written = s.getBytesWritten();
            t = System.nanoTime();
            Restorer.Result r = new Restorer(b, plugins).restore(images,
                RestoreOptions.defaults().withThreads(threads).withPluginOptions(pluginOptions)
                    .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE);
            restore[i] = bytes / (double) (System.nanoTime() - t);
            b.kill(r.process().pid());
          } finally {
            DirectoryTrees.delete(images);
          }
        }
        Files.deleteIfExists(outFile);
      }
      String name = content + ", " + compression;
      report("dump " + name + String.format(" (%.0f%%)", 100.0 * written / bytes),
          runs.median(dump));
      report("restore " + name, runs.median(restore));
    }

    private void report(String name, double gbps) {
      out.printf("%-34s %10.1f %10.2f %8.2f%n", name, bytes / gbps / 1e6, gbps,
          gbps / baselineGbps);
      out.flush();
    }

    /** Writes every page: random data, or the mixed content. */
    private void fill(SimProcess p, boolean mixed) {
      long state = 12345;
      for (long off = 0; off < bytes; off += PAGE) {
        MemorySegment page = p.memory().pageForWrite(HEAP + off);
        long kind = mixed ? (off / PAGE) % 4 : 3;
        for (int i = 0; i < PAGE; i += 8) {
          state = SplitMix.next(state);
          long value = switch ((int) kind) {
            case 0, 1 -> 0L;
            case 2 -> Double.doubleToLongBits(Math.sin((off + i) / 65536.0));
            default -> SplitMix.mix(state);
          };
          page.set(ValueLayout.JAVA_LONG_UNALIGNED, i, value);
        }
      }
    }
  }
}

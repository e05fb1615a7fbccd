package dev.accr.bench;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.accr.api.Prot;
import dev.accr.api.Sizes;
import dev.accr.engine.Benchmark;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.JsonOutput;
import dev.accr.image.Compression;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.SimProcess;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The memory benchmark: a baseline copy, then for two kinds of content (incompressible;
 * half zero pages, a quarter smooth numbers, a quarter random) dump and restore of a process
 * of {@code --size-mib} of memory, with and without zstd, each next to the machine's limits for
 * the same bytes ({@link MachineLimits}): a dump is reported as a ratio to writing its bytes, a
 * restore to reading them into fresh memory. Last, a sparse case: a few pages in a mapping of
 * nearly 1 TiB, whose cost must follow the pages, not the mapping. Images are deleted after
 * each run.
 */
public final class MemoryBenchmark implements Benchmark {
  private static final int PAGE = 4096;
  private static final long HEAP = 0x1000_0000L;
  private static final long SPARSE_BASE = 1L << 44;
  private static final int SPARSE_PAGES = 100;

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public String description() {
    return "Dump and restore throughput of process memory.";
  }

  @Override
  public List<Setting> settings() {
    return List.of(Setting.flag("json", "Prints the figures as one JSON object."),
        Setting.flag("incompressible-only", "Runs only the incompressible, uncompressed case"
            + " (and the sparse one)."),
        Setting.value("settle-ms", "MS", "3000", "Pause before the read-into-fresh-memory limit"
            + " and before each restore, so that memory freed just before is back with the"
            + " system (a VM returns free pages to its host after about 2 s)."));
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
    private final Parameters p;
    private final Runs runs;
    private final int threads;
    private final PrintWriter out;
    private final boolean json;
    private final Struct.Builder report = Struct.newBuilder();
    private final ListValue.Builder cases = ListValue.newBuilder();
    private double baselineGbps;

    Run(Parameters p, PrintWriter out) {
      this.p = p;
      this.bytes = (long) p.sizeMib() << 20;
      this.runs = new Runs(p.warmup(), p.runs());
      this.threads = p.threads() > 0 ? p.threads() : DumpOptions.defaultThreads();
      this.out = out;
      this.json = p.flag("json");
    }

    void all() throws IOException {
      double loadAtStart = load();
      baselineGbps = baseline(bytes, runs);
      report.putFields("memory_bytes", number(bytes))
          .putFields("runs", number(runs.measured()))
          .putFields("warmup", number(runs.warmup()))
          .putFields("threads", number(threads))
          .putFields("dir", Value.newBuilder().setStringValue(p.dir().toString()).build())
          .putFields("load_average_at_start", number(loadAtStart))
          .putFields("baseline_copy_gbps", number(baselineGbps));
      if (!json) {
        out.printf("memory %s, %d runs each (median, after %d warm-up), %d threads, images in %s"
            + ", load average %.2f%n", Sizes.bytes(bytes), runs.measured(), runs.warmup(),
            threads, p.dir(), loadAtStart);
        out.printf("%-34s %10s %8s %7s %9s %8s %9s%n", "case", "median ms", "GB/s", "x copy",
            "limit", "x limit", "heap MiB");
        out.printf("%-34s %10.1f %8.2f %7.2f%n", "in-JVM memory copy (baseline)",
            bytes / baselineGbps / 1e6, baselineGbps, 1.0);
      }
      measure("incompressible", false, Compression.NONE);
      if (!p.flag("incompressible-only")) {
        measure("incompressible", false, Compression.parse("zstd:1"));
        measure("half zero pages", true, Compression.NONE);
        measure("half zero pages", true, Compression.parse("zstd:1"));
      }
      sparse();
      double loadAtEnd = load();
      report.putFields("cases", Value.newBuilder().setListValue(cases).build())
          .putFields("load_average_at_end", number(loadAtEnd));
      if (json) {
        out.println(JsonOutput.print(report));
      } else {
        out.printf("load average at the end %.2f; limits: the same bytes written by %d writers"
            + " (synced), read back, and read into fresh memory after a pause of %d ms, as each"
            + " restore (x limit: median of per-run time ratios)%n", loadAtEnd, threads,
            p.intSetting("settle-ms", 0));
      }
      out.flush();
    }

    private void measure(String content, boolean mixed, Compression compression)
        throws IOException {
      MemoryCase.Figures f = new MemoryCase(p.registry(), runs, threads, p.dir(),
          p.pluginOptions(), true, p.intSetting("settle-ms", 0)).measure("--mem-mib " + (bytes >> 20),
              process -> fill(process, mixed), compression);
      String name = content + ", " + compression;
      double dumpMs = runs.median(f.dumpNs()) / 1e6;
      double restoreMs = runs.median(f.restoreNs()) / 1e6;
      double writeGbps = f.written() / runs.median(f.writeLimitNs());
      double readGbps = f.written() / runs.median(f.readLimitNs());
      double freshGbps = f.written() / runs.median(f.freshLimitNs());
      double dumpRatio = ratio(f.writeLimitNs(), f.dumpNs());
      double restoreRatio = ratio(f.freshLimitNs(), f.restoreNs());
      double dumpHeap = runs.median(f.dumpHeap()) / (1 << 20);
      double restoreHeap = runs.median(f.restoreHeap()) / (1 << 20);
      String dumpName = "dump " + name + String.format(" (%.0f%%)", 100.0 * f.written() / bytes);
      if (!json) {
        row(dumpName, dumpMs, writeGbps, dumpRatio, dumpHeap);
        row("restore " + name, restoreMs, freshGbps, restoreRatio, restoreHeap);
        out.printf("  limits for its %s: write %.2f GB/s, read %.2f GB/s, read into fresh"
            + " memory %.2f GB/s%n", Sizes.bytes(f.written()), writeGbps, readGbps, freshGbps);
        out.printf("  CPU ms per GiB written, user + kernel: dump %.0f + %.0f, write limit"
            + " %.0f + %.0f (cores busy %.2f and %.2f)%n", perGib(f.dumpCpu(), true, f),
            perGib(f.dumpCpu(), false, f), perGib(f.writeLimitCpu(), true, f),
            perGib(f.writeLimitCpu(), false, f), coresBusy(f.dumpCpu(), f.dumpNs()),
            coresBusy(f.writeLimitCpu(), f.writeLimitNs()));
        out.printf("  of the dump's CPU per GiB, JIT compiler threads (a JVM's warm-up, not"
            + " the dump's own work): %.0f%n",
            compilerPerGib(f.dumpCpu(), f));
        out.flush();
      }
      cases.addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
          .putFields("case", Value.newBuilder().setStringValue(name).build())
          .putFields("bytes_written", number(f.written()))
          .putFields("dump_ms", number(dumpMs))
          .putFields("dump_gbps", number(bytes / dumpMs / 1e6))
          .putFields("dump_x_copy", number(bytes / dumpMs / 1e6 / baselineGbps))
          .putFields("write_limit_gbps", number(writeGbps))
          .putFields("dump_x_write_limit", number(dumpRatio))
          .putFields("dump_heap_peak_mib", number(dumpHeap))
          .putFields("dump_user_cpu_ms_per_gib", number(perGib(f.dumpCpu(), true, f)))
          .putFields("dump_kernel_cpu_ms_per_gib", number(perGib(f.dumpCpu(), false, f)))
          .putFields("dump_jit_cpu_ms_per_gib", number(compilerPerGib(f.dumpCpu(), f)))
          .putFields("write_limit_user_cpu_ms_per_gib",
              number(perGib(f.writeLimitCpu(), true, f)))
          .putFields("write_limit_kernel_cpu_ms_per_gib",
              number(perGib(f.writeLimitCpu(), false, f)))
          .putFields("restore_ms", number(restoreMs))
          .putFields("restore_gbps", number(bytes / restoreMs / 1e6))
          .putFields("restore_x_copy", number(bytes / restoreMs / 1e6 / baselineGbps))
          .putFields("read_limit_gbps", number(readGbps))
          .putFields("fresh_read_limit_gbps", number(freshGbps))
          .putFields("restore_x_fresh_read_limit", number(restoreRatio))
          .putFields("restore_heap_peak_mib", number(restoreHeap))));
    }

    /** A few pages in a mapping of nearly 1 TiB (all the address space may map, less the
     * workload's own): dump and restore must cost what the pages cost. */
    private void sparse() throws IOException {
      long mapping = AddressSpace.MAX_MAPPED_BYTES - (64L << 20);
      MemoryCase.Figures f = new MemoryCase(p.registry(), runs, threads, p.dir(),
          p.pluginOptions(), false, 0).measure("--mem-mib 1", process -> {
            process.memory().mapAnonymous(SPARSE_BASE, mapping, Prot.RW, "sparse");
            long state = 99;
            for (int i = 0; i < SPARSE_PAGES; i++) {
              long address = SPARSE_BASE + (mapping / SPARSE_PAGES / PAGE) * PAGE * i;
              state = SplitMix.next(state);
              process.memory().writeLong(address, SplitMix.mix(state));
            }
          }, Compression.NONE);
      double dumpMs = runs.median(f.dumpNs()) / 1e6;
      double restoreMs = runs.median(f.restoreNs()) / 1e6;
      double[] both = new double[runs.total()];
      for (int i = 0; i < both.length; i++) {
        both[i] = f.dumpNs()[i] + f.restoreNs()[i];
      }
      double bothMs = runs.median(both) / 1e6;
      String name = String.format("%d pages in a %s mapping", SPARSE_PAGES,
          Sizes.bytes(mapping));
      if (!json) {
        out.printf("%-34s %10.1f%n", "dump " + name, dumpMs);
        out.printf("%-34s %10.1f%n", "restore " + name, restoreMs);
        out.printf("%-34s %10.1f%n", "dump + restore " + name, bothMs);
      }
      report.putFields("sparse", Value.newBuilder().setStructValue(Struct.newBuilder()
          .putFields("case", Value.newBuilder().setStringValue(name).build())
          .putFields("mapping_bytes", number(mapping))
          .putFields("pages", number(SPARSE_PAGES))
          .putFields("dump_ms", number(dumpMs))
          .putFields("restore_ms", number(restoreMs))
          .putFields("dump_plus_restore_ms", number(bothMs))).build());
    }

    /** Median over measured runs of user (or kernel) CPU ms per GiB the dump wrote. */
    private double perGib(CpuTime[] cpu, boolean user, MemoryCase.Figures f) {
      double[] ms = new double[cpu.length];
      for (int i = 0; i < ms.length; i++) {
        ms[i] = (user ? cpu[i].userNs() : cpu[i].systemNs()) / 1e6 * (1L << 30) / f.written();
      }
      return runs.median(ms);
    }

    /** Median over measured runs of the JIT compiler threads' CPU ms per GiB written. */
    private double compilerPerGib(CpuTime[] cpu, MemoryCase.Figures f) {
      double[] ms = new double[cpu.length];
      for (int i = 0; i < ms.length; i++) {
        ms[i] = cpu[i].compilerNs() / 1e6 * (1L << 30) / f.written();
      }
      return runs.median(ms);
    }

    /** Median over measured runs of CPU time over elapsed time. */
    private double coresBusy(CpuTime[] cpu, double[] ns) {
      double[] busy = new double[cpu.length];
      for (int i = 0; i < busy.length; i++) {
        busy[i] = cpu[i].totalNs() / ns[i];
      }
      return runs.median(busy);
    }

    /** The median over measured runs of {@code limit[i] / accr[i]}: 1.0 is the limit. */
    private double ratio(double[] limitNs, double[] accrNs) {
      double[] r = new double[limitNs.length];
      for (int i = 0; i < r.length; i++) {
        r[i] = limitNs[i] / accrNs[i];
      }
      return runs.median(r);
    }

    private void row(String name, double ms, double limitGbps, double ratio, double heapMib) {
      double gbps = bytes / ms / 1e6;
      out.printf("%-34s %10.1f %8.2f %7.2f %9.2f %8.2f %9.1f%n", name, ms, gbps,
          gbps / baselineGbps, limitGbps, ratio, heapMib);
    }

    private static Value number(double v) {
      return Value.newBuilder().setNumberValue(v).build();
    }

    private static double load() {
      return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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

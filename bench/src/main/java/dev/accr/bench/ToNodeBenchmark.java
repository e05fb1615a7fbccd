package dev.accr.bench;

import dev.accr.bench.TlsNodePair.Served;
import dev.accr.api.AccrException;
import dev.accr.api.Prot;
import dev.accr.engine.Benchmark;
import dev.accr.engine.DumpOptions;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.node.NodeClient;
import dev.accr.proto.DumpReply;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.Request;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code accr bench --to-node}: the throughput of {@code dump --to-node}. A {@code kfd-serve}
 * process on two GPUs, with random host memory beside its VRAM, is dumped from node a
 * (leaving it running) in three ways that alternate within each run: into a directory of node
 * b's image root directly (the target), and {@code --to-node b} over b's UNIX socket and over
 * loopback TCP with mutual TLS. Each streamed dump is given as a ratio to the local dump of the
 * same run (the median of those ratios), which a slow spell of a shared machine affects least.
 * The nodes run in this JVM, with its JIT, so the JVM's CPU time during a dump is what both
 * ends of it cost: given as cores kept busy, and as the best ratio the machine's cores allow
 * (a streamed dump cannot take less time than its CPU time spread over all of them).
 */
public final class ToNodeBenchmark implements Benchmark {
  /** Far above the workload's own mappings. */
  private static final long HEAP = 0x200_0000_0000L;

  /** The ways the set reaches node b. */
  enum Way {
    LOCAL("local dump into b's directory"),
    UNIX("--to-node over the UNIX socket"),
    TLS("--to-node over loopback TLS");

    final String label;

    Way(String label) {
      this.label = label;
    }
  }

  @Override
  public String name() {
    return "to-node";
  }

  @Override
  public String description() {
    return "dump --to-node throughput over a UNIX socket and loopback TLS, as a ratio to a"
        + " local dump into the target node's directory (kfd-serve, 2 GPUs, host memory)";
  }

  @Override
  public List<Setting> settings() {
    return List.of(Setting.value("to-node-compress", "C", "none",
        "compression of the dumps (the dump's --compress), none or zstd[:L]"));
  }


  @Override
  public void run(Parameters p, PrintWriter out) throws IOException {
    String compression = p.setting("to-node-compress");
    dev.accr.image.Compression.parse(compression); // a usage error before anything starts
    long hostBytes = (long) p.sizeMib() << 20;
    int vramMib = Math.max(4, p.sizeMib());
    int threads = p.threads() > 0 ? p.threads() : DumpOptions.defaultThreads();
    Path work = Files.createTempDirectory("accr-bench-to-node-");
    Path root = Files.createDirectories(p.dir().resolve("accr-bench-to-node-"
        + ProcessHandle.current().pid()));
    try {
      try (TlsNodePair nodes = TlsNodePair.start(p, work, root)) {
        Served a = nodes.a();
        Served b = nodes.b();
        SimProcess process = start(a.node(), vramMib, hostBytes, root);
        try {
          measure(p, out, a, b, process, compression, threads, root, vramMib, hostBytes);
        } finally {
          a.node().kill(process.pid());
        }
      }
    } finally {
      DirectoryTrees.delete(root);
      DirectoryTrees.delete(work);
    }
  }

  /** kfd-serve with its VRAM, and {@code hostBytes} of random host memory mapped beside it. */
  private static SimProcess start(Node node, int vramMib, long hostBytes, Path cwd) {
    SimProcess process = node.create("kfd-serve", List.of("--gpus", "2", "--weights-mib",
        String.valueOf(vramMib * 3 / 4), "--kv-mib", String.valueOf(Math.max(2, vramMib / 4)),
        "--steps", "100000000"), cwd, 10);
    try {
      process.memory().mapAnonymous(HEAP, hostBytes, Prot.RW, "bench-heap");
      long state = 11;
      for (long off = 0; off < hostBytes; off += 4096) {
        MemorySegment page = process.memory().pageForWrite(HEAP + off);
        for (int i = 0; i < 4096; i += 8) {
          state = SplitMix.next(state);
          page.set(ValueLayout.JAVA_LONG_UNALIGNED, i, SplitMix.mix(state));
        }
      }
      process.start();
      return process;
    } catch (RuntimeException e) {
      node.kill(process.pid());
      throw e;
    }
  }

  private static void measure(Parameters p, PrintWriter out, Served a, Served b,
      SimProcess process, String compression, int threads, Path root, int vramMib,
      long hostBytes) {
    Runs runs = new Runs(p.warmup(), p.runs());
    Way[] ways = Way.values();
    double[][] ms = new double[ways.length][runs.total()];
    double[][] ratio = new double[ways.length][runs.total()];
    double[][] cpuMs = new double[ways.length][runs.total()];
    double[] bytes = new double[runs.total()];
    int cores = Runtime.getRuntime().availableProcessors();
    sleep(500); // let it load its weights and serve a while
    for (int i = 0; i < runs.total(); i++) {
      for (Way way : ways) {
        DumpRequest.Builder r = DumpRequest.newBuilder().setPid(process.pid())
            .setLeaveRunning(true).setCompression(compression).setThreads(threads)
            .putAllPluginOptions(p.pluginOptions());
        Path dir = root.resolve("set-" + way.name().toLowerCase(Locale.ROOT) + "-" + i);
        r.setDir(dir.toString());
        switch (way) {
          case LOCAL -> { }
          case UNIX -> r.setToNode(b.node().name());
          case TLS -> r.setToNode(b.address());
        }
        CpuTime cpu = CpuTime.ofThisJvm();
        long t = System.nanoTime();
        DumpReply reply = NodeClient.of(a.node().name(), a.run())
            .call(Request.newBuilder().setDump(r).build(), ProgressListener.NONE).getDump();
        ms[way.ordinal()][i] = (System.nanoTime() - t) / 1e6;
        cpuMs[way.ordinal()][i] = CpuTime.ofThisJvm().since(cpu).totalNs() / 1e6;
        if (!Files.isRegularFile(dir.resolve("inventory.img"))) {
          throw AccrException.failed("bench --to-node: no set in %s after the %s", dir,
              way.label);
        }
        bytes[i] = reply.getStats().getMovedList().stream()
            .mapToLong(m -> m.getBytesStored()).sum();
        try {
          DirectoryTrees.delete(dir);
        } catch (IOException e) {
          throw AccrException.failed("bench --to-node: cannot remove %s: %s", dir,
              e.getMessage());
        }
      }
      for (Way way : ways) {
        ratio[way.ordinal()][i] = ms[Way.LOCAL.ordinal()][i] / ms[way.ordinal()][i];
      }
    }
    out.printf(Locale.ROOT, "dump --to-node: kfd-serve --gpus 2 with %d MiB of VRAM per GPU and"
        + " %d MiB of host memory, %s, %d threads, %.0f MiB stored per dump; a -> b, images in"
        + " %s (medians of %d runs after %d warm-up)%n", vramMib, hostBytes >> 20, compression,
        threads, runs.median(bytes) / 1048576.0, p.dir(), runs.measured(), runs.warmup());
    out.printf(Locale.ROOT, "  %-34s %10s %8s %18s %11s %11s %16s%n", "way", "median ms",
        "GB/s", "x local run by run", "CPU ms", "cores busy",
        "x local at most");
    double localCpu = runs.median(cpuMs[Way.LOCAL.ordinal()]);
    double localMs = runs.median(ms[Way.LOCAL.ordinal()]);
    for (Way way : ways) {
      double median = runs.median(ms[way.ordinal()]);
      double cpu = runs.median(cpuMs[way.ordinal()]);
      // Its CPU time over all the cores is the least time it can take on this machine.
      double bound = localMs / (cpu / cores);
      out.printf(Locale.ROOT, "  %-34s %10.1f %8.2f %18s %11.0f %11.2f %16s%n", way.label,
          median, runs.median(bytes) / (median * 1e6), way == Way.LOCAL ? "" : String.format(
              Locale.ROOT, "%.2f", runs.median(ratio[way.ordinal()])), cpu, cpu / median,
          way == Way.LOCAL || cpu <= 0 ? "" : String.format(Locale.ROOT, "%.2f", bound));
    }
    out.printf(Locale.ROOT, "  CPU ms: this JVM's (both nodes'), %d cores; x local at most: the"
        + " local dump's median time over the streamed dump's median CPU time spread over all"
        + " %d cores (local CPU %.0f ms)%n", cores, cores, localCpu);
    out.flush();
  }


  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

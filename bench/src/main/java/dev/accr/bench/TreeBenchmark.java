package dev.accr.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.accr.engine.Benchmark;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.JsonOutput;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.DmaBuf;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.PhaseTimeEntry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code accr bench --tree}: a {@code kfd-ddp} tree (a launcher and one worker per GPU, each
 * worker's gradients exported as a dma-buf its partner imports) dumped as a whole and restored
 * on a second node. Reports dump and restore times and the bytes written against what the
 * tree's processes hold, each shared object counted once, and against the same memory counted
 * in every holder: what saving shared objects once saves.
 */
public final class TreeBenchmark implements Benchmark {
  /** Rounds of the tree after every import is done, before the first dump. */
  private static final int ROUNDS_AFTER_IMPORTS = 2;
  /** Rounds a tree may take to fork its workers and import its partners' buffers. */
  private static final int MAX_SETUP_ROUNDS = 1000;

  @Override
  public String name() {
    return "tree";
  }

  @Override
  public String description() {
    return "dump and restore of a kfd-ddp process tree (a worker per GPU sharing gradient"
        + " buffers): times, and bytes written against the tree's memory";
  }

  @Override
  public List<Setting> settings() {
    return List.of(
        Setting.value("tree-gpus", "N", "4", "Workers of the kfd-ddp tree, one per GPU."),
        Setting.value("tree-vram-mib", "MIB", "256", "VRAM each worker allocates (half"
            + " weights, half gradients)."),
        Setting.flag("json", "Prints the figures as one JSON object."));
  }

  @Override
  public void run(Parameters p, PrintWriter out) throws IOException {
    Runs runs = new Runs(p.warmup(), p.runs());
    int threads = p.threads() > 0 ? p.threads() : DumpOptions.defaultThreads();
    Figures f = measure(p, runs, threads);
    if (p.flag("json")) {
      out.println(JsonOutput.print(f.json(runs, threads)));
    } else {
      f.print(out, runs, threads);
    }
    out.flush();
  }

  /** Sets the tree up, then dumps and restores it {@code runs} times. */
  static Figures measure(Parameters p, Runs runs, int threads) throws IOException {
    int gpus = p.intSetting("tree-gpus", 1);
    int vramMib = p.intSetting("tree-vram-mib", 1);
    Path images = p.dir().resolve("accr-bench-tree-" + ProcessHandle.current().pid());
    Path cwd = Files.createTempDirectory("accr-bench-tree-");
    double[] dumpMs = new double[runs.total()];
    double[] restoreMs = new double[runs.total()];
    double[] written = new double[runs.total()];
    double[] zeros = new double[runs.total()];
    TreeMemory memory;
    int processes;
    List<PhaseTimeEntry> dumpPhases = List.of();
    List<PhaseTimeEntry> restorePhases = List.of();
    try (Node a = new Node("bench-a", p.registry().topologies().load("mi250x4"), p.registry());
        Node b = new Node("bench-b", p.registry().topologies().load("mi250x4"), p.registry())) {
      PluginHost plugins = PluginHost.of(p.registry().plugins());
      SimProcess root = a.create("kfd-ddp", List.of("--gpus", String.valueOf(gpus),
          "--vram-mib", String.valueOf(vramMib), "--steps", "1000000000"), cwd, 0);
      KfdDriver kfd = a.driver("kfd", KfdDriver.class);
      setUp(a, root, kfd, gpus);
      List<SimProcess> tree = InlineTree.live(a, root);
      processes = tree.size();
      memory = TreeMemory.of(tree, kfd);
      DumpOptions dump = DumpOptions.defaults().withThreads(threads).withLeaveRunning(true)
          .withPluginOptions(p.pluginOptions());
      RestoreOptions restore = RestoreOptions.defaults().withThreads(threads)
          .withPluginOptions(p.pluginOptions()).withStart(RestoreOptions.Start.INLINE);
      for (int i = 0; i < runs.total(); i++) {
        try {
          long t = System.nanoTime();
          DumpStatsEntry stats = new Dumper(a, plugins).dump(root.pid(), images, dump,
              ProgressListener.NONE);
          dumpMs[i] = (System.nanoTime() - t) / 1e6;
          dumpPhases = stats.getPhasesList();
          zeros[i] = stats.getMovedList().stream().mapToLong(BytesMovedEntry::getBytesSkipped)
              .sum();
          written[i] = size(images);
          t = System.nanoTime();
          Restorer.Result restored = new Restorer(b, plugins).restore(images, restore,
              ProgressListener.NONE);
          restoreMs[i] = (System.nanoTime() - t) / 1e6;
          restorePhases = restored.stats().getPhasesList();
          b.kill(restored.process().pid());
        } finally {
          DirectoryTrees.delete(images);
        }
        // The next run dumps the tree a round later, as a periodic checkpoint would.
        InlineTree.round(a, root, false);
      }
    } finally {
      DirectoryTrees.delete(cwd);
    }
    return new Figures(gpus, vramMib, processes, memory, runs.median(dumpMs),
        runs.median(restoreMs), (long) runs.median(written), (long) runs.median(zeros), dumpPhases, restorePhases);
  }

  /**
   * Steps the tree until every worker imported its partner's buffer and finished a training
   * step (its gradients went through shared host memory as well), then a little more.
   */
  private static void setUp(Node node, SimProcess root, KfdDriver kfd, int gpus) {
    int shared = gpus / 2 * 2; // each worker of a pair exports; an odd last one has no partner
    int after = -1;
    for (int i = 0; i < MAX_SETUP_ROUNDS && after < ROUNDS_AFTER_IMPORTS; i++) {
      if (!InlineTree.round(node, root, false)) {
        throw new IllegalStateException("kfd-ddp exited while being set up");
      }
      if (after >= 0) {
        after++;
      } else if (imported(kfd) >= shared && stepped(node, root, gpus)) {
        after = 0;
      }
    }
    if (after < ROUNDS_AFTER_IMPORTS) {
      throw new IllegalStateException("kfd-ddp did not share its buffers and train a step"
          + " within " + MAX_SETUP_ROUNDS + " rounds");
    }
  }

  /** Whether every worker of the tree has trained a step (its step register, as kfd-train's). */
  private static boolean stepped(Node node, SimProcess root, int gpus) {
    List<SimProcess> workers = InlineTree.live(node, root).stream().filter(p -> p != root)
        .toList();
    return workers.size() == gpus && workers.stream().allMatch(w -> w.thread(0).gpr(0) >= 1);
  }

  /** Dma-bufs held by an importer beside their exporter. */
  private static long imported(KfdDriver kfd) {
    return kfd.dmaBufs().stream().filter(DmaBuf::bound)
        .filter(b -> b.holderPids().size() > 1).count();
  }

  private static long size(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> {
        try {
          return Files.size(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The medians of a run and what the tree held. */
  record Figures(int gpus, int vramMib, int processes, TreeMemory memory, double dumpMs,
      double restoreMs, long written, long zeros, List<PhaseTimeEntry> dumpPhases,
      List<PhaseTimeEntry> restorePhases) {
    void print(PrintWriter out, Runs runs, int threads) {
      out.printf(Locale.ROOT, "tree kfd-ddp --gpus %d, %d MiB of VRAM per GPU: %d processes,"
          + " %d runs (median, after %d warm-up), %d threads%n", gpus, vramMib, processes,
          runs.measured(), runs.warmup(), threads);
      out.printf(Locale.ROOT, "  %-44s %10s%n", "", "MiB");
      row(out, "host memory (shared mappings once)", memory.hostBytes(),
          String.format(Locale.ROOT, "%.1f MiB shared", mib(memory.sharedHostBytes())));
      row(out, "VRAM (shared buffers once)", memory.vramBytes(),
          String.format(Locale.ROOT, "%.1f MiB in dma-bufs", mib(memory.sharedVramBytes())));
      row(out, "memory, each shared object once", memory.totalBytes(), "");
      row(out, "memory, shared objects counted per holder", memory.perHolderBytes(),
          String.format(Locale.ROOT, "sharing saves %.1f MiB",
              mib(memory.perHolderBytes() - memory.totalBytes())));
      row(out, "bytes written by the dump", written, String.format(Locale.ROOT,
          "%.3f x memory once, %.3f x per holder", (double) written / memory.totalBytes(),
          (double) written / memory.perHolderBytes()));
      row(out, "zeros the dump did not store", zeros, "");
      out.printf(Locale.ROOT, "  %-44s %10.1f ms  (%.2f GB/s of memory; last run: %s)%n",
          "dump", dumpMs, memory.totalBytes() / dumpMs / 1e6, phases(dumpPhases));
      out.printf(Locale.ROOT, "  %-44s %10.1f ms  (%.2f GB/s of memory; last run: %s)%n",
          "restore", restoreMs, memory.totalBytes() / restoreMs / 1e6, phases(restorePhases));
    }

    private static String phases(List<PhaseTimeEntry> phases) {
      return String.join(", ", phases.stream().map(e -> String.format(Locale.ROOT, "%s %.0f ms",
          e.getPhase(), e.getTimeUs() / 1000.0)).toList());
    }

    private static void row(PrintWriter out, String what, long bytes, String note) {
      out.printf(Locale.ROOT, "  %-44s %10.1f%s%n", what, mib(bytes),
          note.isEmpty() ? "" : "  (" + note + ")");
    }

    private static double mib(long bytes) {
      return bytes / 1048576.0;
    }

    Struct json(Runs runs, int threads) {
      return Struct.newBuilder()
          .putFields("workload", Value.newBuilder().setStringValue("kfd-ddp").build())
          .putFields("gpus", number(gpus))
          .putFields("vram_mib_per_gpu", number(vramMib))
          .putFields("processes", number(processes))
          .putFields("runs", number(runs.measured()))
          .putFields("warmup", number(runs.warmup()))
          .putFields("threads", number(threads))
          .putFields("host_bytes", number(memory.hostBytes()))
          .putFields("shared_host_bytes", number(memory.sharedHostBytes()))
          .putFields("vram_bytes", number(memory.vramBytes()))
          .putFields("shared_vram_bytes", number(memory.sharedVramBytes()))
          .putFields("memory_bytes", number(memory.totalBytes()))
          .putFields("memory_per_holder_bytes", number(memory.perHolderBytes()))
          .putFields("bytes_written", number(written))
          .putFields("written_x_memory", number((double) written / memory.totalBytes()))
          .putFields("zero_bytes_skipped", number(zeros))
          .putFields("dump_ms", number(dumpMs))
          .putFields("restore_ms", number(restoreMs))
          .build();
    }

    private static Value number(double v) {
      return Value.newBuilder().setNumberValue(v).build();
    }
  }
}

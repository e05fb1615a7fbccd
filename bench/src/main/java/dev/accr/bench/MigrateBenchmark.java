package dev.accr.bench;

import dev.accr.bench.TlsNodePair.Served;
import dev.accr.engine.Benchmark;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ProgressListener;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.MigrationRound;
import dev.accr.proto.Request;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code accr bench --migrate}: a GPU process moved between two nodes over loopback TCP with
 * mutual TLS, in one run: cold (one stop-and-copy), with pre-copy and post-copy, for {@code
 * kfd-serve} (most of its memory unchanged from step to step) and {@code kfd-train} (all its
 * VRAM rewritten every step, the hard case). Downtime is from the freeze on the source to the
 * process running on the target (for post-copy, before any page has come: first touches are
 * not in it); total time runs until the target has every page.
 */
public final class MigrateBenchmark implements Benchmark {
  /** The modes measured. */
  enum Mode {
    COLD("cold", 0, false),
    PRE_COPY("pre-copy", 5, false),
    POST_COPY("post-copy", 0, true);

    final String label;
    final int rounds;
    final boolean lazy;

    Mode(String label, int rounds, boolean lazy) {
      this.label = label;
      this.rounds = rounds;
      this.lazy = lazy;
    }
  }

  /**
   * Starts the node pair of one workload: its certificates and run directory under {@code
   * work}, its image root {@code root}.
   */
  interface PairOpener {
    TlsNodePair open(Parameters p, Path work, Path root) throws IOException;
  }

  private final PairOpener pairs;

  public MigrateBenchmark() {
    this(TlsNodePair::start);
  }

  /** A bench whose node pairs {@code pairs} starts. */
  MigrateBenchmark(PairOpener pairs) {
    this.pairs = pairs;
  }

  @Override
  public String name() {
    return "migrate";
  }

  @Override
  public String description() {
    return "live migration of kfd-serve and kfd-train (2 GPUs) between two nodes over loopback"
        + " TLS: cold, pre-copy and post-copy, downtime, total time and bytes sent";
  }

  @Override
  public List<Setting> settings() {
    return List.of(Setting.value("migrate-step-delay-ms", "MS", "10",
        "pause between the workload's steps while it is migrated"),
        Setting.value("migrate-modes", "MODES", "cold,pre-copy,post-copy",
            "the migrations measured, of cold, pre-copy and post-copy"),
        Setting.value("migrate-workloads", "NAMES", "kfd-serve,kfd-train",
            "the workloads moved, of kfd-serve and kfd-train"));
  }

  @Override
  public void run(Parameters p, PrintWriter out) throws IOException {
    int delay = p.intSetting("migrate-step-delay-ms", 0);
    List<String> modes = List.of(p.setting("migrate-modes").split(","));
    for (String m : modes) {
      if (java.util.Arrays.stream(Mode.values()).noneMatch(x -> x.label.equals(m))) {
        throw dev.accr.api.AccrException.usage("--migrate-modes: unknown mode '%s' (cold,"
            + " pre-copy, post-copy)", m);
      }
    }
    int vramMib = Math.max(4, p.sizeMib());
    List<List<String>> workloads = List.of(
        List.of("kfd-serve", "--gpus", "2", "--weights-mib", String.valueOf(vramMib * 3 / 4),
            "--kv-mib", String.valueOf(Math.max(2, vramMib / 4)), "--steps", "100000000"),
        List.of("kfd-train", "--gpus", "2", "--vram-mib", String.valueOf(vramMib),
            "--steps", "100000000"));
    List<String> names = List.of(p.setting("migrate-workloads").split(","));
    for (String n : names) {
      if (workloads.stream().noneMatch(w -> w.getFirst().equals(n))) {
        throw dev.accr.api.AccrException.usage("--migrate-workloads: unknown workload"
            + " '%s' (kfd-serve, kfd-train)", n);
      }
    }
    Path work = Files.createTempDirectory("accr-bench-migrate-");
    Path roots = Files.createDirectories(p.dir().resolve("accr-bench-migrate-"
        + ProcessHandle.current().pid()));
    List<String> failed = new ArrayList<>();
    try {
      out.printf(Locale.ROOT, "migration a -> b over loopback TLS, %d MiB of VRAM per GPU,"
          + " a step every %d ms (medians of %d runs)%n", vramMib, delay, p.runs());
      out.printf(Locale.ROOT, "  %-10s %-9s %12s %10s %10s %8s %7s %s%n", "workload", "mode",
          "downtime ms", "total s", "MiB sent", "sent/mem", "rounds", "restore ms");
      for (List<String> w : workloads) {
        if (names.contains(w.getFirst())) {
          measureWorkload(p, w, modes, delay, work, roots, out, failed);
        }
      }
    } finally {
      DirectoryTrees.delete(roots);
      DirectoryTrees.delete(work);
    }
    if (!failed.isEmpty()) {
      // The figures of the others are printed; the run as a whole did not do what was asked.
      throw dev.accr.api.AccrException.failed("bench --migrate: %d of the migrations failed"
          + " (%s)", failed.size(), String.join(", ", failed));
    }
  }

  /**
   * The migrations of one workload, on a node pair of its own, closed when they end (failed
   * or not): what its runs leave on the nodes (device memory kept for reuse, sets left in its
   * image root) is freed before the next workload starts, not added to its memory.
   */
  private void measureWorkload(Parameters p, List<String> workload, List<String> modes,
      int delay, Path work, Path roots, PrintWriter out, List<String> failed)
      throws IOException {
    String name = workload.getFirst();
    Path root = roots.resolve(name); // the image root creates it, private to this user
    try (TlsNodePair nodes = pairs.open(p, Files.createDirectory(work.resolve(name)), root)) {
      double coldDowntime = 0;
      for (Mode mode : Mode.values()) {
        if (!modes.contains(mode.label)) {
          continue;
        }
        Figures f;
        try {
          f = measure(p, nodes, workload, delay, mode, root);
        } catch (dev.accr.api.AccrException e) {
          // One mode failing does not hide the others' figures.
          out.printf("  %-10s %-9s failed: %s%n", name, mode.label, e.getMessage());
          out.flush();
          failed.add(name + " " + mode.label);
          continue;
        }
        if (mode == Mode.COLD) {
          coldDowntime = f.downtimeMs();
        }
        out.printf(Locale.ROOT, "  %-10s %-9s %12.1f %10.2f %10.1f %8.2f %7d %10.1f%s%s%n",
            name, mode.label, f.downtimeMs(), f.totalS(), f.sentMib(),
            f.sentMib() / f.memoryMib(), f.rounds(), f.restoreMs(),
            mode == Mode.COLD || coldDowntime == 0 ? "" : String.format(Locale.ROOT,
                "  (downtime %.2f of cold)", f.downtimeMs() / coldDowntime), f.lazy());
        out.flush();
      }
    } finally {
      if (Files.exists(root)) {
        DirectoryTrees.delete(root); // sets a failed migration could not drop
      }
    }
  }

  private record Figures(double downtimeMs, double totalS, double sentMib, double memoryMib,
      int rounds, double restoreMs, String lazy) {}

  /** One migration: its reply, and the host memory the process held before it. */
  record Migrated(MigrateReply reply, long hostBytes) {}

  private static Figures measure(Parameters p, TlsNodePair nodes, List<String> workload,
      int delay, Mode mode, Path cwd) throws IOException {
    Runs runs = new Runs(p.warmup(), p.runs());
    double[] downtime = new double[runs.total()];
    double[] total = new double[runs.total()];
    double[] sent = new double[runs.total()];
    double[] memory = new double[runs.total()];
    double[] restore = new double[runs.total()];
    int rounds = 0;
    String lazy = "";
    java.util.Map<String, double[]> phases = new java.util.LinkedHashMap<>();
    for (int i = 0; i < runs.total(); i++) {
      Migrated run = migrateOnce(p, nodes, workload, delay, mode, cwd);
      MigrateReply reply = run.reply();
      downtime[i] = reply.getDowntimeUs() / 1000.0;
      total[i] = reply.getTotalUs() / 1e6;
      sent[i] = reply.getBytesSent() / 1048576.0;
      restore[i] = reply.getRestoreUs() / 1000.0;
      // What the process holds: its host pages and the VRAM it allocated (the VRAM is what a
      // full copy of the devices sends).
      MigrationRound first = reply.getRounds(0);
      memory[i] = Math.max(Math.max(first.getBytes(), run.hostBytes()),
          reply.getPostCopyBytes()) / 1048576.0;
      rounds = reply.getRoundsCount() - 1;
      for (var ph : reply.getDowntimePhasesList()) {
        phases.computeIfAbsent(ph.getPhase(), k -> new double[runs.total()])[i] =
            ph.getTimeUs() / 1000.0;
      }
      if (reply.hasPostCopy()) {
        lazy = lazyFigures(reply);
      }
      if (reply.getStagedRounds() > 0) {
        lazy = String.format(Locale.ROOT, "%n             %d of %d rounds loaded on the target"
            + " ahead of the stop", reply.getStagedRounds(), rounds);
      }
    }
    if (!phases.isEmpty()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
          "%n             downtime by phase (medians, ms):"));
      phases.forEach((name, ms) -> line.append(String.format(Locale.ROOT, " %s %.1f", name,
          runs.median(ms))));
      lazy += line;
    }
    return new Figures(runs.median(downtime), runs.median(total), runs.median(sent),
        runs.median(memory), rounds, runs.median(restore), lazy);
  }

  /**
   * Starts {@code workload} on node a and migrates it to b in {@code mode}; whether it
   * succeeds or not, no process is left on either node (the migrated one on b, the one a
   * failure left running on a), so the next run starts with the memory of this one freed.
   */
  static Migrated migrateOnce(Parameters p, TlsNodePair nodes, List<String> workload,
      int delay, Mode mode, Path cwd) {
    Served a = nodes.a();
    try {
      var process = a.node().spawn(workload.getFirst(), workload.subList(1, workload.size()),
          cwd, delay);
      sleep(1000); // let it set up its buffers and run a while
      long host = process.memory().residentPages() * 4096L;
      MigrateRequest.Builder r = MigrateRequest.newBuilder().setPid(process.pid())
          .setToNode(nodes.b().address()).setMaxRounds(mode.rounds).setLazy(mode.lazy)
          .putAllPluginOptions(p.pluginOptions());
      if (p.threads() > 0) {
        r.setThreads(p.threads());
      }
      MigrateReply reply = a.client().call(Request.newBuilder().setMigrate(r).build(),
          ProgressListener.NONE).getMigrate();
      return new Migrated(reply, host);
    } finally {
      nodes.killProcesses();
    }
  }

  /** How the memory came in the last post-copy run: on demand (first touches) or pushed. */
  private static String lazyFigures(MigrateReply reply) {
    var f = reply.getPostCopy();
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "%n             post-copy: host pages %d on demand, %d pushed", f.getPagesFaulted(),
        f.getPagesPushed()));
    for (var d : f.getDevicesList()) {
      b.append(String.format(Locale.ROOT, "; %s %d on demand, %d pushed", d.getName(),
          d.getFaulted(), d.getPushed()));
    }
    return b.append(String.format(Locale.ROOT, "; all in %.2f s after it ran",
        reply.getPostCopyUs() / 1e6)).toString();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

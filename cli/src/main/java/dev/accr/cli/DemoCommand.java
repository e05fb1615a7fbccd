package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.image.DirectoryTrees;
import dev.accr.api.MappingPolicy;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Registry;
import dev.accr.plugin.DevicePairs;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpStatsEntry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code accr demo}: two embedded nodes of different topologies; a workload runs
 * uninterrupted on one, then runs again, is dumped while it runs, restored on the other node
 * and finishes there; the two digests must match.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Dump a running workload on one embedded node, restore it on another, compare.")
final class DemoCommand implements Callable<Integer> {
  private static final int STEPS = 400;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path work = Files.createTempDirectory("accr-demo-");
    Registry registry = AccrCommand.registry(spec);
    try (Node a = new Node("a", registry.topologies().load("cpu-only"), registry);
        Node b = new Node("b", registry.topologies().load("cpu-2numa"), registry)) {
      PluginHost plugins = PluginHost.of(registry.plugins());
      out.printf("node a: %s, node b: %s%n", a.topology().getName(), b.topology().getName());

      SimProcess reference = a.spawn("counter", args(work.resolve("reference.out")), work, 0);
      String expected = a.waitFor(reference.pid());
      out.printf("uninterrupted run of counter (%d steps, 64 MiB): digest %s%n", STEPS, expected);

      SimProcess p = a.spawn("counter", args(work.resolve("restored.out")), work, 1);
      Thread.sleep(150);
      Path images = work.resolve("images");
      DumpStatsEntry stats = new Dumper(a, plugins).dump(p.pid(), images,
          DumpOptions.defaults().withCompression(Compression.parse("zstd")), ProgressListener.NONE);
      long stepsDone = Files.readAllLines(work.resolve("restored.out")).size();
      out.printf("dumped pid %d on node a after %d steps: frozen %.1f ms, %d pages written,"
          + " %d zero pages skipped, %s on disk%n", p.pid(), stepsDone,
          stats.getFrozenTimeUs() / 1000.0, stats.getPagesWritten(), stats.getPagesSkippedZero(),
          Sizes.bytes(stats.getBytesWritten()));

      Restorer.Result r = new Restorer(b, plugins).restore(images,
          RestoreOptions.defaults().withThreads(2), ProgressListener.NONE);
      out.printf("restored pid %d on node b (%s) in %.1f ms%n", r.process().pid(),
          b.topology().getName(), r.timeUs() / 1000.0);
      String actual = b.waitFor(r.process().pid());
      boolean same = actual.equals(expected) && Files.mismatch(work.resolve("reference.out"),
          work.resolve("restored.out")) == -1;
      out.printf("restored run finished: digest %s%n%s%n", actual,
          same ? "OK: same digest and output as the uninterrupted run"
              : "MISMATCH: the restored run differs from the uninterrupted run");
      return same && gpuDemo(out, registry, work) ? 0 : 1;
    } finally {
      DirectoryTrees.delete(work);
    }
  }

  /**
   * The same with a GPU workload: kfd-train on two GPUs of an mi250x4 node, dumped with
   * dispatches in flight and restored on an mi300x8 node (another ISA the program has code
   * for; its caches count differs, which the demo relaxes), printing the GPU mapping.
   */
  private static boolean gpuDemo(PrintWriter out, Registry registry, Path work)
      throws Exception {
    PluginHost plugins = PluginHost.of(registry.plugins());
    List<String> args = List.of("--gpus", "2", "--vram-mib", "16", "--steps", "60", "--seed",
        "7", "--gpu-us-per-wg", "2");
    try (Node a = new Node("gpu-a", registry.topologies().load("mi250x4"), registry);
        Node b = new Node("gpu-b", registry.topologies().load("mi300x8"), registry)) {
      String expected = a.waitFor(a.spawn("kfd-train", args, work, 0).pid());
      out.printf("%nuninterrupted run of kfd-train (2 GPUs of %s): digest %s%n",
          a.topology().getName(), expected);
      SimProcess p = a.spawn("kfd-train", args, work, 2);
      Thread.sleep(150);
      Path images = work.resolve("gpu-images");
      DumpStatsEntry stats = new Dumper(a, plugins).dump(p.pid(), images,
          DumpOptions.defaults().withCompression(Compression.parse("zstd")), ProgressListener.NONE);
      out.printf("dumped pid %d with its queues preempted: frozen %.1f ms, VRAM through the SDMA"
          + " engines%n", p.pid(), stats.getFrozenTimeUs() / 1000.0);
      Restorer.Result r = new Restorer(b, plugins).restore(images, RestoreOptions.defaults()
          .withThreads(2).withMapping(MappingPolicy.of(Map.of(), Set.of("caches"))),
          ProgressListener.NONE);
      out.printf("restored pid %d on node %s (%s) with --relax caches:%n", r.process().pid(),
          b.name(), b.topology().getName());
      r.devices().forEach(d -> out.println("  " + DevicePairs.describe(d)));
      String actual = b.waitFor(r.process().pid());
      boolean same = actual.equals(expected);
      out.printf("restored run finished: digest %s%n%s%n", actual,
          same ? "OK: same digest as the uninterrupted GPU run"
              : "MISMATCH: the restored GPU run differs from the uninterrupted run");
      return same;
    }
  }

  private static List<String> args(Path out) {
    return List.of("--mem-mib", "64", "--steps", String.valueOf(STEPS), "--seed", "42",
        "--pages-per-step", "32", "--out", out.toString());
  }
}

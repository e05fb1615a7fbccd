package dev.accr.cli;

import dev.accr.api.AccrException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code accr bench}: dump and restore throughput of process memory, each as a ratio to a plain
 * in-JVM memory copy of the same size measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Measure dump and restore throughput of process memory (or, with --vram,"
        + " of GPU memory through the DMA and CPU paths).",
        "Each figure is a median of --runs runs and a ratio to an in-JVM copy of the same size."})
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--size-mib", defaultValue = "1024", description = "Process memory (default: ${DEFAULT-VALUE}).")
  int sizeMib;

  @Option(names = "--dir", defaultValue = "/dev/shm", description = "Where images go (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--runs", defaultValue = "5", description = "Runs per case (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured runs before the"
      + " runs of each case, so that every case is measured with its code compiled (default:"
      + " ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--threads", defaultValue = "0", description = "I/O threads (default: one per core).")
  int threads;

  @Option(names = "--vram", description = "Benchmark GPU memory (DMA and CPU paths) instead.")
  boolean vram;

  @Option(names = "--gpus", defaultValue = "2", description = "GPUs for --vram, each with"
      + " --size-mib of VRAM (default: ${DEFAULT-VALUE}).")
  int gpus;

  @Option(names = "--staging-mib", defaultValue = "64",
      description = "Staging buffers of the DMA path (default: ${DEFAULT-VALUE}).")
  long stagingMib;

  @Option(names = "--dump-only", description = "With --vram: only dumps through the DMA path,"
      + " without the baseline, host-memory or restore cases, so that the node's memory while"
      + " dumping large VRAM can be shown with a small -Xmx.")
  boolean dumpOnly;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || warmup < 0) {
      throw AccrException.usage("--runs must be at least 1 and --warmup at least 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    if (vram) {
      new VramBenchmark(AccrCommand.registry(spec), gpus, sizeMib, dir, new Runs(warmup, runs), threads, stagingMib, dumpOnly, out).run();
    } else {
      new MemoryBenchmark(AccrCommand.registry(spec), sizeMib, dir, new Runs(warmup, runs), threads, out).run();
    }
    return 0;
  }
}

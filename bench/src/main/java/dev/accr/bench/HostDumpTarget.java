package dev.accr.bench;

import dev.accr.image.DirectoryTrees;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Registry;
import dev.accr.plugin.PluginHost;
import dev.accr.workload.SplitMix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the VRAM benchmark's DMA path is compared with: a process holding the same amount of
 * random host memory, dumped uncompressed. It stays alive so that its dumps can alternate with
 * the VRAM dumps: on a shared machine a slow spell then slows both sides of a ratio.
 */
final class HostDumpTarget implements AutoCloseable {
  private static final long HEAP = 0x1000_0000L;

  private final long bytes;
  private final Path dir;
  private final int threads;
  private final Node node;
  private final Path outFile;
  private final SimProcess process;
  private final List<Double> measured = new ArrayList<>();

  HostDumpTarget(Registry registry, long bytes, Path dir, int threads) throws IOException {
    this.bytes = bytes;
    this.dir = dir;
    this.threads = threads;
    this.node = new Node("bench-host", registry.topologies().load("cpu-only"), registry);
    try {
      this.outFile = Files.createTempFile("accr-bench-", ".out");
      this.process = node.create("counter", List.of("--mem-mib", String.valueOf(bytes >> 20),
          "--steps", "0", "--out", outFile.toString()), outFile.getParent(), 0);
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    fill();
  }

  /** Writes random data to every page of the process's memory. */
  private void fill() {
    long state = 7;
    for (long off = 0; off < bytes; off += 4096) {
      MemorySegment page = process.memory().pageForWrite(HEAP + off);
      for (int i = 0; i < 4096; i += 8) {
        state = SplitMix.next(state);
        page.set(ValueLayout.JAVA_LONG_UNALIGNED, i, SplitMix.mix(state));
      }
    }
  }

  /** Dumps once and returns GB/s, kept for {@link #all} when {@code isMeasured}. */
  double dump(boolean isMeasured) throws IOException {
    Path images = dir.resolve("accr-bench-host-" + ProcessHandle.current().pid());
    try {
      long t = System.nanoTime();
      new Dumper(node, PluginHost.of(node.registry().plugins())).dump(process.pid(), images, DumpOptions.defaults()
          .withThreads(threads).withLeaveRunning(true), ProgressListener.NONE);
      double gbps = bytes / (double) (System.nanoTime() - t);
      if (isMeasured) {
        measured.add(gbps);
      }
      return gbps;
    } finally {
      DirectoryTrees.delete(images);
    }
  }

  /** GB/s of every measured dump so far. */
  double[] all() {
    return measured.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Override
  public void close() throws IOException {
    node.close();
    Files.deleteIfExists(outFile);
  }
}

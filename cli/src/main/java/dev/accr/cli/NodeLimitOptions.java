package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.kernel.NodeLimits;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** What a node lets its callers use: buffers shared by dumps and restores, memory, processes. */
final class NodeLimitOptions {
  @Option(names = "--buffer-mib", paramLabel = "M",
      description = "Bulk-I/O buffers all dumps and restores of the node share at once, in MiB "
          + "(default: 256); with many at once each uses fewer buffers.")
  Long bufferMib;

  @Option(names = "--max-memory-mib", paramLabel = "M",
      description = "Memory the node's processes may hold in all, in MiB (default: the "
          + "topology's memory); run and restore beyond it are refused.")
  Long memoryMib;

  @Option(names = "--max-processes", paramLabel = "N",
      description = "Processes the node runs at once (default: 256); run and restore beyond "
          + "it are refused.")
  Integer maxProcesses;

  NodeLimits limits() {
    NodeLimits l = NodeLimits.defaults();
    if (bufferMib != null) {
      l = l.withBufferBytes(mib(bufferMib, "--buffer-mib"));
    }
    if (memoryMib != null) {
      l = l.withMemoryBytes(mib(memoryMib, "--max-memory-mib"));
    }
    if (maxProcesses != null) {
      l = l.withMaxProcesses(maxProcesses);
    }
    return l;
  }

  /** The options again, for the daemon's command line. */
  List<String> args() {
    List<String> args = new ArrayList<>();
    if (bufferMib != null) {
      args.addAll(List.of("--buffer-mib", bufferMib.toString()));
    }
    if (memoryMib != null) {
      args.addAll(List.of("--max-memory-mib", memoryMib.toString()));
    }
    if (maxProcesses != null) {
      args.addAll(List.of("--max-processes", maxProcesses.toString()));
    }
    return args;
  }

  private static long mib(long mib, String option) {
    if (mib < 1 || mib > 1L << 30) {
      throw AccrException.usage("%s %d is out of range [1, %d]", option, mib,
          1L << 30);
    }
    return mib << 20;
  }
}

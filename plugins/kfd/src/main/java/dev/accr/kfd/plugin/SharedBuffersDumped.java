package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.DmaBuf;
import dev.accr.kfd.proto.KfdBoEntry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a dump learns about buffers shared between processes (dma-bufs), kept for the whole
 * operation: the buffers each dumped process exported (saved with it, once) and every use of
 * another's buffer (an import, or a descriptor). Once every process is dumped, {@link #check}
 * fails the dump if a buffer in use was exported by a process that was not dumped: its
 * contents would be in no image.
 */
final class SharedBuffersDumped {
  private record Export(int pid, int handle) {}

  private record Use(int pid, String what, long dmaBufId, int exporterPid, int exporterHandle) {}

  private final Set<Export> exports = new HashSet<>();
  private final List<Use> uses = new ArrayList<>();

  /** The operation's record, created on first use. */
  static SharedBuffersDumped of(PluginContext ctx) {
    return ProcessStates.of(ctx).operation(SharedBuffersDumped.class, SharedBuffersDumped::new);
  }

  /** Records the shared buffers among the dumped buffers of process {@code pid}. */
  synchronized void process(int pid, List<KfdBoEntry> bos) {
    for (KfdBoEntry b : bos) {
      if (b.getDmabufId() == 0) {
        continue;
      }
      if (b.getKeepsMemory()) { // its exporter freed it: saved with this import instead
        exports.add(new Export(b.getExporterPid(), b.getExporterHandle()));
      } else if (b.getImported()) {
        uses.add(new Use(pid, String.format("imports dma-buf %d at gpu va 0x%x",
            b.getDmabufId(), b.getGpuVa()), b.getDmabufId(), b.getExporterPid(),
            b.getExporterHandle()));
      } else {
        exports.add(new Export(pid, b.getHandle()));
      }
    }
  }

  /** Records that process {@code pid} holds a descriptor {@code fd} of {@code buffer}. */
  synchronized void descriptor(int pid, int fd, DmaBuf buffer) {
    uses.add(new Use(pid, String.format("holds dma-buf %d as fd %d", buffer.id(), fd),
        buffer.id(), buffer.exporterPid(), buffer.exporterHandle()));
  }

  /**
   * Fails if a buffer in use was not saved with its exporter.
   *
   * @throws AccrException exit code 1, naming both processes and the buffer
   */
  synchronized void check() {
    for (Use u : uses) {
      if (!exports.contains(new Export(u.exporterPid(), u.exporterHandle()))) {
        throw AccrException.failed("kfd: process %d %s exported by process %d (buffer %d),"
            + " which is not in the dumped tree", u.pid(), u.what(), u.exporterPid(),
            u.exporterHandle());
      }
    }
  }
}

package dev.accr.kfd.plugin;

import dev.accr.api.CorruptImageException;
import dev.accr.api.PluginContext;
import dev.accr.kfd.driver.DmaBuf;
import dev.accr.kfd.driver.DmaBufFile;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.proto.KfdBoEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dma-bufs of a restore, by the id the dump recorded, kept for the whole operation (as
 * upstream's handle registry shared by the restoring processes). Whoever meets a buffer
 * first creates it empty: a descriptor, an import, or its exporter, which gives it memory.
 * An import met before its exporter is restored waits and is done when the exporter is
 * (upstream retries the restore of such a process later). By the time devices resume, every
 * import must have been done: {@link #checkResolved} fails the restore otherwise.
 */
final class SharedBuffersRestored {
  private record Waiting(int pid, KfdProcess importer, KfdBoEntry entry) {}

  private final KfdDriver driver;
  private final Map<Long, DmaBuf> buffers = new LinkedHashMap<>();
  private final Map<Long, List<Waiting>> waiting = new LinkedHashMap<>();

  SharedBuffersRestored(KfdDriver driver) {
    this.driver = driver;
  }

  /** The operation's registry, created on first use. */
  static SharedBuffersRestored of(PluginContext ctx, KfdDriver driver) {
    return ProcessStates.of(ctx).operation(SharedBuffersRestored.class,
        () -> new SharedBuffersRestored(driver));
  }

  /** The registry if the operation has one, else null. */
  static SharedBuffersRestored existing(PluginContext ctx) {
    return ProcessStates.of(ctx).operation(SharedBuffersRestored.class);
  }

  private DmaBuf buffer(long id) {
    return buffers.computeIfAbsent(id, driver::newDmaBuf);
  }

  /** Reopens a descriptor of the buffer the dump knew as {@code id}. */
  synchronized DmaBufFile open(long id) {
    return driver.openDmaBuf(buffer(id));
  }

  /**
   * After RESTORE of {@code kfd}'s own buffers and before their contents are loaded:
   * re-creates the buffers whose exporter had freed them and that {@code kfd} kept (the
   * contents are loaded through its import), doing the imports that waited for them.
   */
  synchronized void keptRestored(KfdProcess kfd, List<KfdBoEntry> bos) {
    for (KfdBoEntry e : bos) {
      if (e.getKeepsMemory()) {
        DmaBuf b = buffer(e.getDmabufId());
        KfdCriu.restoreKept(kfd, e, b);
        for (Waiting w : waiting.getOrDefault(e.getDmabufId(), List.of())) {
          KfdCriu.restoreImport(w.importer(), w.entry(), b);
        }
        waiting.remove(e.getDmabufId());
      }
    }
  }

  /**
   * After RESTORE of {@code kfd}'s own buffers: gives the buffers it exported their memory
   * (doing the imports that waited for them), and imports what it imported, now or once its
   * exporter is restored.
   */
  synchronized void restored(KfdProcess kfd, List<KfdBoEntry> bos) {
    for (KfdBoEntry e : bos) {
      if (e.getDmabufId() != 0 && !e.getImported()) {
        DmaBuf b = buffer(e.getDmabufId());
        KfdCriu.restoreExport(kfd, e, b);
        for (Waiting w : waiting.getOrDefault(e.getDmabufId(), List.of())) {
          KfdCriu.restoreImport(w.importer(), w.entry(), b);
        }
        waiting.remove(e.getDmabufId());
      }
    }
    for (KfdBoEntry e : bos) {
      if (e.getImported() && !e.getKeepsMemory()) {
        DmaBuf b = buffer(e.getDmabufId());
        if (b.bound()) {
          KfdCriu.restoreImport(kfd, e, b);
        } else {
          waiting.computeIfAbsent(e.getDmabufId(), k -> new ArrayList<>())
              .add(new Waiting(kfd.pid(), kfd, e));
        }
      }
    }
  }

  /**
   * Fails if an import of process {@code pid} still waits, or a buffer it holds got no
   * memory: its exporter was not in the image.
   */
  synchronized void checkResolved(int pid) {
    for (var e : waiting.entrySet()) {
      for (Waiting w : e.getValue()) {
        if (w.pid() == pid) {
          throw new CorruptImageException("kfd-bos-" + pid + ".img", String.format(
              "process %d imports dma-buf %d at gpu va 0x%x exported by process %d, which the"
              + " image does not restore", pid, e.getKey(), w.entry().getGpuVa(),
              w.entry().getExporterPid()));
        }
      }
    }
    for (var e : buffers.entrySet()) {
      if (!e.getValue().bound()) {
        throw new CorruptImageException("kfd-bos-" + pid + ".img", "dma-buf " + e.getKey()
            + " has no exporter in the image");
      }
    }
  }

  /** Forgets buffers nobody came to hold (a failed restore). */
  synchronized void discardUnused() {
    buffers.values().forEach(driver::discardIfUnused);
  }
}

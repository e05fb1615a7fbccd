package dev.accr.kfd.plugin;

import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdProcessEntry;
import java.util.List;

/**
 * The names of one process's VRAM bulk files in one set. A set names them per process and GPU
 * ({@code vram-p<pid>} and {@code vram-packed-p<pid>}, id the GPU), so that processes of one
 * tree that use the same GPU each have their own, and says so in the process's entry
 * ({@link KfdProcessEntry#getVramPerProcess}); older sets, without it, name them per GPU only
 * ({@code vram} and {@code vram-packed}).
 */
final class VramFiles {
  private static final String FULL = "vram";
  private static final String PACKED = "vram-packed";

  /** Appended to both names: empty in older sets. */
  private final String suffix;

  private VramFiles(String suffix) {
    this.suffix = suffix;
  }

  /** The names a dump of {@code pid} writes. */
  static VramFiles forDump(long pid) {
    return new VramFiles("-p" + pid);
  }

  /** The process entry a dump writes: it records that the set uses {@link #forDump} names. */
  static KfdProcessEntry mark(KfdProcessEntry process) {
    return process.toBuilder().setVramPerProcess(true).build();
  }

  /** The names {@code pid}'s files have in {@code images}, as its process entry records. */
  static VramFiles of(PluginImages images, long pid) {
    if (images.hasEntries("process", pid)) {
      List<KfdProcessEntry> e = images.readEntries("process", pid, KfdProcessEntry.parser());
      if (!e.isEmpty() && e.getFirst().getVramPerProcess()) {
        return forDump(pid);
      }
    }
    return new VramFiles("");
  }

  /** The file of a full dump (chunks keyed by GPU address), or of {@link PackedRuns}. */
  String what(boolean packed) {
    return (packed ? PACKED : FULL) + suffix;
  }

  /** The index file of a bulk file, as errors name it. */
  static String indexFile(String what, int gpuId) {
    return String.format("kfd-%s-%d.pagemap.img", what, gpuId);
  }
}

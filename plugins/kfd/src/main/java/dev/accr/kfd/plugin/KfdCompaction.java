package dev.accr.kfd.plugin;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.api.BulkWriter;
import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import java.util.List;

/**
 * {@code accr compact} of sets with kfd state: the last link's entries as they are, and each
 * GPU's VRAM folded along the chain ({@link FoldedVram}) into the {@code vram} file of a full
 * dump (named as the copied process entry says, see {@link VramFiles}), cut into chunks as a
 * full dump cuts them. The written-ranges file is dropped: the result has no parent.
 */
final class KfdCompaction {
  /** Stored chunk size, as a full dump's. */
  private static final int CHUNK = 1 << 20;

  private KfdCompaction() {}

  /** Writes the full set's kfd files into {@code out}; false when {@code last} has none. */
  static boolean compact(PluginImages last, PluginImages out) {
    List<Long> pids = last.entryIds("process");
    for (long pid : pids) {
      copy(last, out, "process", pid, KfdProcessEntry.parser());
      copy(last, out, "devices", pid, KfdDeviceEntry.parser());
      copy(last, out, "bos", pid, KfdBoEntry.parser());
      copy(last, out, "queues", pid, KfdQueueEntry.parser());
      copy(last, out, "events", pid, KfdEventEntry.parser());
      copy(last, out, "svm", pid, KfdSvmRangeEntry.parser());
      String what = VramFiles.of(last, pid).what(false); // as the copied process entry says
      try (FoldedVram vram = FoldedVram.of(last, pid)) {
        for (KfdDeviceEntry d : last.readEntries("devices", pid, KfdDeviceEntry.parser())) {
          try (BulkWriter w = out.createBulk(what, d.getGpuId())) {
            for (FoldedVram.Extent x : vram.extents(d.getGpuId())) {
              long at = 0;
              while (at < x.length()) {
                long next = Math.min(x.length(), (x.va() + at - x.base()) / CHUNK * CHUNK
                    + CHUNK + x.base() - x.va());
                w.write(x.va() + at, x.data().asSlice(at, next - at));
                at = next;
              }
            }
          }
        }
      }
    }
    return !pids.isEmpty();
  }

  private static <T extends MessageLite> void copy(PluginImages from, PluginImages to,
      String what, long pid, Parser<T> parser) {
    if (from.hasEntries(what, pid)) {
      to.writeEntries(what, pid, from.readEntries(what, pid, parser));
    }
  }
}

package dev.accr.cli;

import com.google.protobuf.Parser;
import dev.accr.engine.ImageSet;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import dev.accr.proto.BoSummary;
import dev.accr.proto.DeviceSummary;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.QueueSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.SvmLocationPages;
import dev.accr.proto.SvmRangeSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The GPUs of a set dumped with the kfd plugin: devices with their buffer objects (and how
 * much of each was saved and stored) and queues, and the SVM ranges with where their pages
 * lived.
 */
final class KfdSummaries {
  static final String PLUGIN = "kfd";

  private KfdSummaries() {}

  static void addTo(SetSummary.Builder s, ImageSet set) throws IOException {
    for (int pid : new TreeMap<>(set.processes()).keySet()) {
      if (!Files.exists(file(set, "devices", pid))) {
        continue;
      }
      List<KfdBoEntry> bos = read(set, "bos", pid, KfdBoEntry.parser());
      List<KfdQueueEntry> queues = read(set, "queues", pid, KfdQueueEntry.parser());
      for (KfdDeviceEntry d : read(set, "devices", pid, KfdDeviceEntry.parser())) {
        List<PluginChunkEntry> vram = vramChunks(set, d.getGpuId());
        DeviceSummary.Builder device = DeviceSummary.newBuilder().setPlugin(PLUGIN)
            .setGpuId(d.getGpuId()).setPhysicalGpuId(d.getDevice().getGpuId())
            .setTopologyNode(d.getDevice().getNode())
            .setGfxTargetVersion(d.getDevice().getGfxTargetVersion())
            .setVramBytes(d.getDevice().getVramBytes()).addAllPeers(d.getPeersList())
            .setSavedBytes(vram.stream().mapToLong(PluginChunkEntry::getRawLength).sum())
            .setStoredBytes(vram.stream().mapToLong(PluginChunkEntry::getStoredLength).sum());
        for (KfdBoEntry b : bos) {
          if (b.getGpuId() == d.getGpuId()) {
            device.addBos(bo(b, vram));
          }
        }
        for (KfdQueueEntry q : queues) {
          if (q.getGpuId() == d.getGpuId()) {
            device.addQueues(QueueSummary.newBuilder().setQueueId(q.getQueueId())
                .setType(q.getType().name()).setPriority(q.getPriority())
                .setReadIndex(q.getReadIndex()).setWriteIndex(q.getWriteIndex())
                .setPreemptedPacket(q.getPreemptedPacket())
                .setPreemptedNextWorkgroup(q.getPreemptedNextWorkgroup()));
          }
        }
        s.addDevices(device);
        s.setDeviceBytes(s.getDeviceBytes() + device.getSavedBytes())
            .setDeviceStoredBytes(s.getDeviceStoredBytes() + device.getStoredBytes());
      }
      for (KfdSvmRangeEntry r : read(set, "svm", pid, KfdSvmRangeEntry.parser())) {
        Map<Integer, Long> pages = new TreeMap<>();
        for (SvmResidencyRun run : r.getResidencyList()) {
          pages.merge(run.getLocation(), (long) run.getPages(), Long::sum);
        }
        SvmRangeSummary.Builder range = SvmRangeSummary.newBuilder().setStart(r.getStart())
            .setSize(r.getSize()).setPreferredLocation(r.getPreferredLocation());
        pages.forEach((location, n) -> range.addPages(SvmLocationPages.newBuilder()
            .setLocation(location).setPages(n)));
        s.addSvmRanges(range);
      }
    }
  }

  private static BoSummary bo(KfdBoEntry b, List<PluginChunkEntry> vram) {
    long saved = 0;
    long stored = 0;
    for (PluginChunkEntry c : vram) {
      if (c.getKey() >= b.getGpuVa() && c.getKey() < b.getGpuVa() + b.getSize()) {
        saved += c.getRawLength();
        stored += c.getStoredLength();
      }
    }
    return BoSummary.newBuilder().setHandle(b.getHandle()).setDomain(b.getDomain().name())
        .setGpuVa(b.getGpuVa()).setSize(b.getSize()).setFlags(b.getFlags())
        .addAllMappedGpus(b.getMappedGpusList()).setSavedBytes(saved).setStoredBytes(stored)
        .build();
  }

  /** The chunks of a GPU's VRAM file, keyed by GPU address; none when nothing was saved. */
  private static List<PluginChunkEntry> vramChunks(ImageSet set, int gpuId) throws IOException {
    Path pagemap = set.dir().resolve(ImageKind.PLUGIN_PAGEMAP.pluginFileName(PLUGIN, "vram",
        gpuId));
    if (!Files.exists(pagemap)) {
      return List.of();
    }
    var image = EntryImageCodec.read(pagemap, ImageKind.PLUGIN_PAGEMAP, set.id());
    return image.parseRange(PluginChunkEntry.parser(), 1, image.entries().size());
  }

  private static Path file(ImageSet set, String what, int pid) {
    return set.dir().resolve(ImageKind.PLUGIN.pluginFileName(PLUGIN, what, pid));
  }

  private static <T> List<T> read(ImageSet set, String what, int pid, Parser<T> parser)
      throws IOException {
    return EntryImageCodec.read(file(set, what, pid), ImageKind.PLUGIN, set.id())
        .parseAll(parser);
  }
}

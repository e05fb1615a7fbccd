package dev.accr.kfd.plugin;

import dev.accr.api.Sizes;
import dev.accr.api.BulkReader;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportChart;
import dev.accr.api.ReportTable;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdBoSummary;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdDeviceSummary;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdQueueSummary;
import dev.accr.kfd.proto.KfdSummary;
import dev.accr.kfd.proto.KfdSvmLocationPages;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.KfdSvmRangeSummary;
import dev.accr.kfd.proto.SvmResidencyRun;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What {@code accr inspect} shows of a kfd dump: each GPU with its buffer objects (and how much
 * of each was saved and stored) and queues, and the SVM ranges with where their pages lived.
 */
final class KfdReports {
  /** The domains a BO chart tells apart; the others share one colour. */
  private static final List<String> DOMAINS = List.of("VRAM", "GTT");

  private KfdReports() {}

  /** The kfd part of a set; null if the set has no kfd devices. */
  static PluginReport summarize(PluginImages images) {
    List<Long> pids = images.entryIds("devices");
    if (pids.isEmpty()) {
      return null;
    }
    KfdSummary.Builder s = KfdSummary.newBuilder();
    SharedBuffersReport shared = new SharedBuffersReport();
    for (long pid : pids) {
      List<KfdBoEntry> bos = images.readEntries("bos", pid, KfdBoEntry.parser());
      List<KfdQueueEntry> queues = images.readEntries("queues", pid, KfdQueueEntry.parser());
      List<KfdDeviceEntry> devices = images.readEntries("devices", pid,
          KfdDeviceEntry.parser());
      for (KfdDeviceEntry d : devices) {
        s.addDevices(device((int) pid, d, bos, queues, vramChunks(images, pid, d.getGpuId())));
      }
      shared.process((int) pid, devices, bos);
      for (KfdSvmRangeEntry r : images.readEntries("svm", pid, KfdSvmRangeEntry.parser())) {
        s.addSvmRanges(svmRange((int) pid, r));
      }
    }
    s.addAllSharedBuffers(shared.summaries());
    for (KfdDeviceSummary d : s.getDevicesList()) {
      s.setSavedBytes(s.getSavedBytes() + d.getSavedBytes())
          .setStoredBytes(s.getStoredBytes() + d.getStoredBytes());
    }
    KfdSummary summary = s.build();
    return new PluginReport(summary, tables(summary), charts(summary), used(summary),
        summary.getSavedBytes(), summary.getStoredBytes());
  }

  /** The GPUs (topology ids) a process had buffer objects or queues on. */
  private static Set<Integer> used(KfdSummary s) {
    Set<Integer> out = new TreeSet<>();
    for (KfdDeviceSummary d : s.getDevicesList()) {
      if (d.getBosCount() + d.getQueuesCount() > 0) {
        out.add(d.getPhysicalGpuId());
      }
    }
    return out;
  }

  /**
   * The buffer objects of each GPU that has some, as bars coloured by domain, the saved part
   * darker (the tables already say which GPUs have none).
   */
  private static List<ReportChart> charts(KfdSummary s) {
    List<ReportChart> out = new ArrayList<>();
    for (KfdDeviceSummary d : s.getDevicesList()) {
      if (d.getBosCount() == 0) {
        continue;
      }
      List<ReportChart.Bar> bars = new ArrayList<>();
      for (KfdBoSummary b : d.getBosList()) {
        int domain = DOMAINS.indexOf(b.getDomain());
        bars.add(new ReportChart.Bar("bo " + b.getHandle() + " " + b.getDomain(), b.getSize(),
            Math.min(b.getSavedBytes(), b.getSize()), domain < 0 ? DOMAINS.size() : domain,
            "bo " + b.getHandle() + " " + b.getDomain() + " at " + Cells.hex(b.getGpuVa())
                + ", " + Sizes.bytes(b.getSize()) + ", saved " + Sizes.bytes(b.getSavedBytes())
                + ", stored " + Sizes.bytes(b.getStoredBytes())));
      }
      List<String> legend = new ArrayList<>(DOMAINS);
      legend.add("other");
      out.add(new ReportChart("sizes of the buffer objects of gpu " + Cells.hex(d.getGpuId())
          + " (pid " + d.getPid() + ")", legend, "saved", bars));
    }
    return out;
  }

  private static KfdDeviceSummary device(int pid, KfdDeviceEntry d, List<KfdBoEntry> bos,
      List<KfdQueueEntry> queues, List<BulkReader.Chunk> vram) {
    KfdDeviceSummary.Builder out = KfdDeviceSummary.newBuilder().setPid(pid)
        .setGpuId(d.getGpuId()).setPhysicalGpuId(d.getDevice().getGpuId())
        .setTopologyNode(d.getDevice().getNode())
        .setGfxTargetVersion(d.getDevice().getGfxTargetVersion())
        .setGfxTarget(GfxTarget.name(d.getDevice().getGfxTargetVersion()))
        .setVramBytes(d.getDevice().getVramBytes()).addAllPeers(d.getPeersList())
        .setSavedBytes(vram.stream().mapToLong(BulkReader.Chunk::length).sum())
        .setStoredBytes(vram.stream().mapToLong(BulkReader.Chunk::storedLength).sum());
    for (KfdBoEntry b : bos) {
      if (b.getGpuId() == d.getGpuId()) {
        out.addBos(bo(b, vram));
      }
    }
    for (KfdQueueEntry q : queues) {
      if (q.getGpuId() == d.getGpuId()) {
        out.addQueues(KfdQueueSummary.newBuilder().setQueueId(q.getQueueId())
            .setType(q.getType().name()).setPriority(q.getPriority())
            .setReadIndex(q.getReadIndex()).setWriteIndex(q.getWriteIndex())
            .setPreemptedPacket(q.getPreemptedPacket())
            .setPreemptedNextWorkgroup(q.getPreemptedNextWorkgroup()));
      }
    }
    return out.build();
  }

  private static KfdBoSummary bo(KfdBoEntry b, List<BulkReader.Chunk> vram) {
    long saved = 0;
    long stored = 0;
    for (BulkReader.Chunk c : vram) {
      if (c.key() >= b.getGpuVa() && c.key() < b.getGpuVa() + b.getSize()) {
        saved += c.length();
        stored += c.storedLength();
      }
    }
    return KfdBoSummary.newBuilder().setHandle(b.getHandle()).setDomain(b.getDomain().name())
        .setGpuVa(b.getGpuVa()).setSize(b.getSize()).setFlags(b.getFlags())
        .addAllMappedGpus(b.getMappedGpusList()).setSavedBytes(saved).setStoredBytes(stored)
        .build();
  }

  private static KfdSvmRangeSummary svmRange(int pid, KfdSvmRangeEntry r) {
    Map<Integer, Long> pages = new TreeMap<>();
    for (SvmResidencyRun run : r.getResidencyList()) {
      pages.merge(run.getLocation(), (long) run.getPages(), Long::sum);
    }
    KfdSvmRangeSummary.Builder range = KfdSvmRangeSummary.newBuilder().setPid(pid)
        .setStart(r.getStart()).setSize(r.getSize())
        .setPreferredLocation(r.getPreferredLocation());
    pages.forEach((location, n) -> range.addPages(KfdSvmLocationPages.newBuilder()
        .setLocation(location).setPages(n)));
    return range.build();
  }

  /**
   * The stored pieces of a GPU's VRAM by GPU address (the dump writes a file for every
   * device): the chunks of a set keyed by address, or the pieces of a packed set's shared
   * chunks, each with its share of the chunk's stored bytes (the shares add up to them).
   */
  private static List<BulkReader.Chunk> vramChunks(PluginImages images, long pid, int gpuId) {
    try (StoredVram stored = StoredVram.open(images, pid, gpuId, StoredVram.packed(images, pid))) {
      List<BulkReader.Chunk> out = new ArrayList<>();
      for (StoredVram.Placed c : stored.chunks()) {
        long left = c.chunk().storedLength();
        for (int i = 0; i < c.pieces().size(); i++) {
          StoredVram.Piece p = c.pieces().get(i);
          long share = i == c.pieces().size() - 1 ? left
              : c.chunk().storedLength() * p.length() / c.chunk().length();
          left -= share;
          out.add(new BulkReader.Chunk(p.va(), (int) p.length(), (int) share));
        }
      }
      return out;
    }
  }

  private static List<ReportTable> tables(KfdSummary s) {
    List<ReportTable> out = new ArrayList<>();
    List<List<String>> devices = new ArrayList<>();
    for (KfdDeviceSummary d : s.getDevicesList()) {
      devices.add(List.of(String.valueOf(d.getPid()), Cells.hex(d.getGpuId()),
          Cells.hex(d.getPhysicalGpuId()), String.valueOf(d.getTopologyNode()),
          d.getGfxTarget() + " (" + d.getGfxTargetVersion() + ")",
          Sizes.capacity(d.getVramBytes()), Cells.hexIds(d.getPeersList()),
          Sizes.bytes(d.getSavedBytes()), Sizes.bytes(d.getStoredBytes())));
    }
    out.add(new ReportTable("gpus", List.of("pid", "gpu", "physical", "node", "isa", "vram",
        "peers", "saved", "stored"), devices));
    for (KfdDeviceSummary d : s.getDevicesList()) {
      List<List<String>> bos = new ArrayList<>();
      for (KfdBoSummary b : d.getBosList()) {
        bos.add(List.of(String.valueOf(b.getHandle()), b.getDomain(), Cells.hex(b.getGpuVa()),
            Sizes.bytes(b.getSize()), Cells.hex(b.getFlags()),
            Cells.hexIds(b.getMappedGpusList()), Sizes.bytes(b.getSavedBytes()),
            Sizes.bytes(b.getStoredBytes())));
      }
      out.add(new ReportTable("buffer objects of gpu " + Cells.hex(d.getGpuId()), List.of("bo",
          "domain", "gpu va", "size", "flags", "mapped on", "saved", "stored"), bos));
      List<List<String>> queues = new ArrayList<>();
      for (KfdQueueSummary q : d.getQueuesList()) {
        queues.add(List.of(String.valueOf(q.getQueueId()), q.getType(),
            String.valueOf(q.getPriority()), String.valueOf(q.getReadIndex()),
            String.valueOf(q.getWriteIndex()), String.valueOf(q.getPreemptedPacket()),
            String.valueOf(q.getPreemptedNextWorkgroup())));
      }
      out.add(new ReportTable("queues of gpu " + Cells.hex(d.getGpuId()), List.of("queue",
          "type", "priority", "read", "write", "preempted packet", "next workgroup"), queues));
    }
    ReportTable shared = SharedBuffersReport.table(s.getSharedBuffersList());
    if (shared != null) {
      out.add(shared);
    }
    if (s.getSvmRangesCount() > 0) {
      List<List<String>> ranges = new ArrayList<>();
      for (KfdSvmRangeSummary r : s.getSvmRangesList()) {
        ranges.add(List.of(String.valueOf(r.getPid()), Cells.hex(r.getStart()),
            Sizes.bytes(r.getSize()), location(r.getPreferredLocation()),
            r.getPagesList().stream().map(p -> location(p.getLocation()) + ":" + p.getPages())
                .collect(Collectors.joining(" "))));
      }
      out.add(new ReportTable("svm ranges (location 0 is system memory)", List.of("pid",
          "start", "size", "preferred", "pages by location"), ranges));
    }
    return out;
  }

  private static String location(int location) {
    return location == 0 ? "0" : Cells.hex(location & 0xffffffffL);
  }
}

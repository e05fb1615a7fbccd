package dev.accr.kfd.plugin;

import dev.accr.api.ReportTable;
import dev.accr.api.Sizes;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdImportSummary;
import dev.accr.kfd.proto.KfdSharedBufferSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code accr inspect} says of the buffers a set's processes share (dma-bufs): each
 * buffer with its exporter (pid, handle, GPU) and size, and every process that imports it,
 * on which GPU and whether over XGMI. A buffer whose exporter freed its own is shown with
 * the exporter marked freed: its contents were saved with the oldest import.
 */
final class SharedBuffersReport {
  private final Map<Long, KfdSharedBufferSummary.Builder> buffers = new TreeMap<>();
  private final List<Import> imports = new ArrayList<>();

  private record Import(long dmaBufId, KfdImportSummary summary) {}

  /** Adds what process {@code pid} exported and imported. */
  void process(int pid, List<KfdDeviceEntry> devices, List<KfdBoEntry> bos) {
    Map<Integer, Integer> physical = new TreeMap<>();
    devices.forEach(d -> physical.put(d.getGpuId(), d.getDevice().getGpuId()));
    for (KfdBoEntry b : bos) {
      if (b.getDmabufId() == 0) {
        continue;
      }
      int gpu = physical.getOrDefault(b.getGpuId(), 0);
      if (b.getKeepsMemory()) {
        buffers.put(b.getDmabufId(), KfdSharedBufferSummary.newBuilder()
            .setDmabufId(b.getDmabufId()).setSize(b.getSize())
            .setExporterPid(b.getExporterPid()).setExporterHandle(b.getExporterHandle())
            .setExporterFreed(true));
      }
      if (b.getImported()) {
        imports.add(new Import(b.getDmabufId(), KfdImportSummary.newBuilder().setPid(pid)
            .setHandle(b.getHandle()).setGpuId(b.getGpuId()).setPhysicalGpuId(gpu)
            .setGpuVa(b.getGpuVa()).setOverXgmi(b.getOverXgmi()).build()));
      } else {
        buffers.put(b.getDmabufId(), KfdSharedBufferSummary.newBuilder()
            .setDmabufId(b.getDmabufId()).setSize(b.getSize()).setExporterPid(pid)
            .setExporterHandle(b.getHandle()).setGpuId(b.getGpuId()).setPhysicalGpuId(gpu)
            .setGpuVa(b.getGpuVa()));
      }
    }
  }

  /**
   * Every buffer, by id, with its importers in pid order; an import whose exporter the set
   * lacks is listed with exporter pid 0 (a check of the set reports it).
   */
  List<KfdSharedBufferSummary> summaries() {
    for (Import i : imports) {
      buffers.computeIfAbsent(i.dmaBufId(), id -> KfdSharedBufferSummary.newBuilder()
          .setDmabufId(id)).addImporters(i.summary());
    }
    List<KfdSharedBufferSummary> out = new ArrayList<>();
    for (KfdSharedBufferSummary.Builder b : buffers.values()) {
      List<KfdImportSummary> sorted = new ArrayList<>(b.getImportersList());
      sorted.sort(java.util.Comparator.comparingInt(KfdImportSummary::getPid));
      out.add(b.clearImporters().addAllImporters(sorted).build());
    }
    return out;
  }

  /** The table of {@code summaries}, or null when nothing is shared. */
  static ReportTable table(List<KfdSharedBufferSummary> summaries) {
    if (summaries.isEmpty()) {
      return null;
    }
    List<List<String>> rows = new ArrayList<>();
    for (KfdSharedBufferSummary b : summaries) {
      List<String> importers = new ArrayList<>();
      for (KfdImportSummary i : b.getImportersList()) {
        importers.add(i.getPid() + " (bo " + i.getHandle() + " on gpu "
            + Cells.hex(i.getGpuId()) + (i.getOverXgmi() ? ", xgmi" : "") + ")");
      }
      rows.add(List.of(String.valueOf(b.getDmabufId()), Sizes.bytes(b.getSize()),
          b.getExporterPid() == 0 ? "missing" : b.getExporterPid() + " (bo "
              + b.getExporterHandle() + (b.getExporterFreed() ? ", freed" : "") + ")",
          b.getExporterFreed() ? "-" : Cells.hex(b.getGpuId()),
          b.getExporterFreed() ? "-" : Cells.hex(b.getGpuVa()),
          importers.isEmpty() ? "none" : String.join(", ", importers)));
    }
    return new ReportTable("shared buffers (dma-bufs): exporter -> importers", List.of(
        "dma-buf", "size", "exporter", "gpu", "gpu va", "imported by"), rows);
  }
}

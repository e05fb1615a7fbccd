package dev.accr.npu.plugin;

import dev.accr.api.Sizes;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportChart;
import dev.accr.api.ReportTable;
import dev.accr.npu.proto.NpuDescriptorChange;
import dev.accr.npu.proto.NpuDescriptorSummary;
import dev.accr.npu.proto.NpuDeviceEntry;
import dev.accr.npu.proto.NpuDiff;
import dev.accr.npu.proto.NpuSummary;
import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code accr inspect} and {@code accr diff} show of npu dumps: each npu descriptor with
 * the device it used (id, chip, memory, cores, firmware) and what the driver saved for it.
 */
final class NpuReports {
  private NpuReports() {}

  /** The npu descriptors of a set; null if it has none. */
  static PluginReport summarize(PluginImages images) {
    List<NpuDescriptorSummary> descriptors = read(images);
    if (descriptors.isEmpty()) {
      return null;
    }
    NpuSummary summary = NpuSummary.newBuilder().addAllDescriptors(descriptors).build();
    List<List<String>> rows = new ArrayList<>();
    for (NpuDescriptorSummary d : descriptors) {
      rows.add(List.of(String.valueOf(d.getPid()), String.valueOf(d.getFd()), hex(d.getNpuId()),
          d.getChip(), bytes(d.getMemoryBytes()), String.valueOf(d.getCores()),
          String.valueOf(d.getFwVersion()), hex(d.getSaveAddress()), bytes(d.getSaveLength()),
          bytes(d.getAllocatedBytes()), String.valueOf(d.getDrainedJobs())));
    }
    Set<Integer> used = new TreeSet<>();
    descriptors.forEach(d -> used.add(d.getNpuId()));
    return new PluginReport(summary, List.of(new ReportTable("npu descriptors", List.of("pid",
        "fd", "npu", "chip", "memory", "cores", "firmware", "save area", "save length",
        "allocated", "drained jobs"), rows)), List.of(chart(descriptors)), used, 0, 0);
  }

  /** Each descriptor's npu memory as a bar, the part it allocated darker. */
  private static ReportChart chart(List<NpuDescriptorSummary> descriptors) {
    List<ReportChart.Bar> bars = new ArrayList<>();
    for (NpuDescriptorSummary d : descriptors) {
      bars.add(new ReportChart.Bar("pid " + d.getPid() + " fd " + d.getFd() + " npu "
          + hex(d.getNpuId()), d.getMemoryBytes(), Math.min(d.getAllocatedBytes(),
          d.getMemoryBytes()), 0, "npu " + hex(d.getNpuId()) + " " + d.getChip() + ": "
          + bytes(d.getAllocatedBytes()) + " allocated of " + bytes(d.getMemoryBytes())
          + ", saved to " + hex(d.getSaveAddress()) + " (" + bytes(d.getSaveLength()) + ")"));
    }
    return new ReportChart("npu memory allocated by each descriptor", List.of("npu memory"),
        "allocated", bars);
  }

  /** The descriptors of two sets compared, matched on pid and fd; null if neither has any. */
  static PluginReport diff(PluginImages from, PluginImages to) {
    Map<String, NpuDescriptorSummary[]> pairs = new TreeMap<>();
    List<List<NpuDescriptorSummary>> sides = List.of(read(from), read(to));
    if (sides.get(0).isEmpty() && sides.get(1).isEmpty()) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      for (NpuDescriptorSummary d : sides.get(side)) {
        pairs.computeIfAbsent(String.format("%010d-%010d", d.getPid(), d.getFd()),
            k -> new NpuDescriptorSummary[2])[side] = d;
      }
    }
    NpuDiff.Builder diff = NpuDiff.newBuilder();
    List<List<String>> rows = new ArrayList<>();
    for (NpuDescriptorSummary[] pair : pairs.values()) {
      NpuDescriptorSummary d = pair[0] != null ? pair[0] : pair[1];
      NpuDescriptorChange.Builder c = NpuDescriptorChange.newBuilder().setPid(d.getPid())
          .setFd(d.getFd());
      if (pair[0] != null) {
        c.setFrom(pair[0]);
      }
      if (pair[1] != null) {
        c.setTo(pair[1]);
      }
      if (pair[0] == null || pair[1] == null) {
        c.setStatus(pair[0] == null ? "added" : "removed");
      } else {
        c.addAllChanges(changes(pair[0], pair[1]));
        if (c.getChangesCount() == 0) {
          continue;
        }
        c.setStatus("changed");
      }
      diff.addDescriptors(c);
      rows.add(List.of(String.valueOf(c.getPid()), String.valueOf(c.getFd()), c.getStatus(),
          c.getChangesCount() == 0 ? "npu " + hex(d.getNpuId()) + " " + d.getChip()
              : String.join(", ", c.getChangesList())));
    }
    return new PluginReport(diff.build(), List.of(new ReportTable("npu descriptors changed",
        List.of("pid", "fd", "state", "changes"), rows)));
  }

  /** One "field old -> new" per value that differs; ids and addresses in hex. */
  private static List<String> changes(NpuDescriptorSummary a, NpuDescriptorSummary b) {
    List<String> out = new ArrayList<>();
    for (FieldDescriptor f : NpuDescriptorSummary.getDescriptor().getFields()) {
      Object x = a.getField(f);
      Object y = b.getField(f);
      if (!Objects.equals(x, y)) {
        boolean hex = f.getName().equals("npu_id") || f.getName().equals("save_address");
        out.add(f.getName() + " " + (hex ? hex(((Number) x).longValue()) : x) + " -> "
            + (hex ? hex(((Number) y).longValue()) : y));
      }
    }
    return out;
  }

  private static List<NpuDescriptorSummary> read(PluginImages images) {
    List<NpuDescriptorSummary> out = new ArrayList<>();
    for (long pid : images.entryIds(NpuPlugin.DEVICES)) {
      for (NpuDeviceEntry e : images.readEntries(NpuPlugin.DEVICES, pid,
          NpuDeviceEntry.parser())) {
        Device d = e.getDevice();
        out.add(NpuDescriptorSummary.newBuilder().setPid((int) pid).setFd(e.getFd())
            .setNpuId(d.getNpuId()).setChip(d.getNpuChip()).setMemoryBytes(d.getNpuMemoryBytes())
            .setCores(d.getNpuCores()).setFwVersion(d.getNpuFwVersion())
            .setTopologyNode(d.getNode()).setSaveAddress(e.getSaveAddress())
            .setSaveLength(e.getSaveLength()).setAllocatedBytes(e.getAllocatedBytes())
            .setDrainedJobs(e.getDrainedJobs()).build());
      }
    }
    return out;
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v & 0xffffffffffffffffL);
  }

  /** Bytes for people; a whole number of MiB or GiB without a decimal, as memory is named. */
  static String bytes(long n) {
    return n > 0 && n % (1L << 20) == 0 ? Sizes.capacity(n) : Sizes.bytes(n);
  }
}

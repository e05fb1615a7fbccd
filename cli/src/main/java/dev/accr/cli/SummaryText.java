package dev.accr.cli;

import dev.accr.proto.BoSummary;
import dev.accr.proto.DeviceSummary;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ImageFileSummary;
import dev.accr.proto.OpenFileSummary;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.QueueSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.SvmLocationPages;
import dev.accr.proto.SvmRangeSummary;
import dev.accr.proto.ThreadSummary;
import dev.accr.proto.VmaSummary;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** {@code accr inspect} as text, in sections like checkpointctl's. */
final class SummaryText {
  private SummaryText() {}

  static String of(SetSummary s) {
    StringBuilder out = new StringBuilder();
    out.append(f("checkpoint %s: format v%d, accr %s, node '%s', %s%n",
        s.getCheckpointId(), s.getFormatVersion(), s.getToolVersion(), s.getSourceNode(),
        Instant.ofEpochMilli(s.getDumpTimeEpochMs())));
    out.append(f("topology %s: cpu nodes %d, devices %d, links %d; plugins: %s%n",
        s.getTopology().getName(), s.getTopology().getCpusCount(),
        s.getTopology().getDevicesCount(), s.getTopology().getLinksCount(),
        s.getPluginsList().isEmpty() ? "none" : String.join(", ", s.getPluginsList())));
    out.append("\nprocess tree\n");
    tree(out, s, 0, "");
    for (ProcessSummary p : s.getProcessesList()) {
      out.append(f("%nmemory of %d%n", p.getPid()));
      TextTable t = new TextTable("  ", "start", "end", "prot", "kind", "name", "pages",
          "resident", "zero", "stored");
      for (VmaSummary v : p.getVmasList()) {
        t.row(hex(v.getStart()), hex(v.getEnd()), v.getProt(), v.getKind(),
            v.getName().isEmpty() ? v.getPath() : v.getName(), v.getPages(),
            v.getResidentPages(), v.hasZeroPages() ? v.getZeroPages() : "-",
            bytes(v.getStoredBytes()));
      }
      out.append(t);
    }
    out.append("\nfiles\n");
    TextTable files = new TextTable("  ", "pid", "fd", "type", "path", "pos", "size");
    for (OpenFileSummary f : s.getFilesList()) {
      files.row(f.getPid(), f.getFd(), f.getType(), f.getPath(), f.getPos(), f.getSize());
    }
    out.append(files);
    devices(out, s);
    stats(out, s);
    out.append(f("%nimage files: %d, %s%n", s.getImageFilesCount(),
        bytes(s.getImageFilesList().stream().mapToLong(ImageFileSummary::getSize).sum())));
    return out.toString();
  }

  private static void tree(StringBuilder out, SetSummary s, int ppid, String indent) {
    for (ProcessSummary p : s.getProcessesList()) {
      boolean root = ppid == 0 ? p.getPid() == s.getRootPid() : p.getPpid() == ppid
          && p.getPid() != ppid;
      if (!root) {
        continue;
      }
      out.append(f("%s%d %s %s%n", indent.isEmpty() ? "  " : indent + "└─ ",
          p.getPid(), p.getExe(), String.join(" ", p.getArgvList())));
      for (ThreadSummary t : p.getThreadsList()) {
        out.append(f("%s    thread %d pc %d%n", indent, t.getTid(), t.getPc()));
      }
      tree(out, s, p.getPid(), indent + "  ");
    }
  }

  private static void devices(StringBuilder out, SetSummary s) {
    for (DeviceSummary d : s.getDevicesList()) {
      out.append(f("%n%s device %d (physical %d, topology node %d): gfx %d, VRAM %s,"
          + " peers %s; saved %s, stored %s%n", d.getPlugin(), d.getGpuId(),
          d.getPhysicalGpuId(), d.getTopologyNode(), d.getGfxTargetVersion(),
          bytes(d.getVramBytes()), ids(d.getPeersList()), bytes(d.getSavedBytes()),
          bytes(d.getStoredBytes())));
      TextTable bos = new TextTable("  ", "bo", "domain", "gpu va", "size", "flags", "mapped on",
          "saved", "stored");
      for (BoSummary b : d.getBosList()) {
        bos.row(b.getHandle(), b.getDomain(), hex(b.getGpuVa()), bytes(b.getSize()),
            b.getFlags(), ids(b.getMappedGpusList()), bytes(b.getSavedBytes()),
            bytes(b.getStoredBytes()));
      }
      out.append(bos.isEmpty() ? "  no buffer objects\n" : bos);
      TextTable queues = new TextTable("  ", "queue", "type", "priority", "read", "write",
          "preempted packet", "next workgroup");
      for (QueueSummary q : d.getQueuesList()) {
        queues.row(q.getQueueId(), q.getType(), q.getPriority(), q.getReadIndex(),
            q.getWriteIndex(), q.getPreemptedPacket(), q.getPreemptedNextWorkgroup());
      }
      out.append(queues.isEmpty() ? "  no queues\n" : queues);
    }
    if (s.getSvmRangesCount() > 0) {
      out.append("\nsvm ranges (location 0 is system memory)\n");
      TextTable t = new TextTable("  ", "start", "size", "preferred", "pages by location");
      for (SvmRangeSummary r : s.getSvmRangesList()) {
        t.row(hex(r.getStart()), bytes(r.getSize()), r.getPreferredLocation(),
            svmPages(r.getPagesList()));
      }
      out.append(t);
    }
  }

  private static void stats(StringBuilder out, SetSummary s) {
    if (!s.hasStats()) {
      out.append("\ndump statistics: none\n");
      return;
    }
    DumpStatsEntry st = s.getStats();
    out.append("\ndump statistics\n");
    out.append(f("  frozen %.3f ms, memory dump %.3f ms, total %.3f ms%n",
        st.getFrozenTimeUs() / 1000.0, st.getMemdumpTimeUs() / 1000.0,
        st.getTotalTimeUs() / 1000.0));
    out.append(f("  pages: %d scanned, %d zero (not stored), %d written%n",
        st.getPagesScanned(), st.getPagesSkippedZero(), st.getPagesWritten()));
    out.append(f("  memory: %s read, %s written, %.2f MB/s, ratio %.2f"
        + " (compression %s, %d threads)%n", bytes(st.getBytesRead()),
        bytes(st.getBytesWritten()), s.getMemdumpMbPerS(), s.getCompressionRatio(),
        st.getCompression(), st.getThreads()));
    if (s.getDeviceBytes() > 0) {
      out.append(f("  device memory: %s saved, %s stored, ratio %.2f%n",
          bytes(s.getDeviceBytes()), bytes(s.getDeviceStoredBytes()),
          SetSummaries.round(s.getDeviceBytes() / (double) s.getDeviceStoredBytes())));
    }
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  static String ids(List<Integer> ids) {
    return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /** Bytes for people: exact below 10 KiB, else KiB/MiB/GiB with one decimal. */
  static String bytes(long n) {
    if (n < 10 * 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n / 1024.0;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return f("%.1f %s", v, units[u]);
  }

  static String svmPages(List<SvmLocationPages> pages) {
    return pages.stream().map(p -> p.getLocation() + ":" + p.getPages())
        .collect(Collectors.joining(" "));
  }
}

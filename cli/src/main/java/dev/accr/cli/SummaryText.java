package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ImageFileSummary;
import dev.accr.proto.OpenFileSummary;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.ChainLink;
import dev.accr.proto.SetSummary;
import dev.accr.proto.SharedSummary;
import dev.accr.proto.ThreadSummary;
import dev.accr.proto.VmaSummary;
import java.time.Instant;
import java.util.Locale;

/** {@code accr inspect} as text, in sections like checkpointctl's. */
final class SummaryText {
  private SummaryText() {}

  static String of(SetSummaries.Inspection inspection) {
    SetSummary s = inspection.summary();
    StringBuilder out = new StringBuilder();
    out.append(f("checkpoint %s: format v%d, accr %s, node '%s', %s%n",
        s.getCheckpointId(), s.getFormatVersion(), s.getToolVersion(), s.getSourceNode(),
        Instant.ofEpochMilli(s.getDumpTimeEpochMs())));
    out.append(f("topology %s: cpu nodes %d, devices %d, links %d; plugins: %s%n",
        s.getTopology().getName(), s.getTopology().getCpusCount(),
        s.getTopology().getDevicesCount(), s.getTopology().getLinksCount(),
        s.getPluginsList().isEmpty() ? "none" : String.join(", ", s.getPluginsList())));
    if (s.getChainCount() > 0) {
      out.append(f("%nchain of %d links, newest first%n", s.getChainCount()));
      TextTable chain = new TextTable("  ", "dir", "checkpoint", "kind", "parent", "pages",
          "stored");
      for (ChainLink l : s.getChainList()) {
        chain.row(l.getDir(), l.getCheckpointId(), l.getPreDump() ? "pre-dump" : "dump",
            l.getParentPath().isEmpty() ? "-" : l.getParentPath(), l.getStoredPages(),
            Sizes.bytes(l.getStoredBytes()));
      }
      out.append(chain);
    }
    out.append("\nprocess tree\n");
    tree(out, s, 0, "");
    for (ProcessSummary p : s.getProcessesList()) {
      if (p.getZombie()) {
        continue;
      }
      out.append(f("%nmemory of %d%n", p.getPid()));
      TextTable t = new TextTable("  ", "start", "end", "prot", "kind", "name", "pages",
          "resident", "zero", "stored");
      for (VmaSummary v : p.getVmasList()) {
        t.row(hex(v.getStart()), hex(v.getEnd()), v.getProt(), v.getKind(),
            v.getName().isEmpty() ? v.getPath() : v.getName(), v.getPages(),
            v.getResidentPages(), v.hasZeroPages() ? v.getZeroPages() : "-",
            Sizes.bytes(v.getStoredBytes()));
      }
      out.append(t);
    }
    if (s.getSharedCount() > 0) {
      out.append("\nshared\n");
      TextTable shared = new TextTable("  ", "kind", "id", "name", "bytes", "pids", "detail");
      for (SharedSummary sh : s.getSharedList()) {
        shared.row(sh.getKind(), sh.getId(), sh.getName().isEmpty() ? "-" : sh.getName(),
            Sizes.bytes(sh.getBytes()), String.join(" ", sh.getPidsList().stream()
                .map(String::valueOf).toList()), sh.getDetail());
      }
      out.append(shared);
    }
    out.append("\nfiles\n");
    TextTable files = new TextTable("  ", "pid", "fd", "type", "path", "pos", "size");
    for (OpenFileSummary f : s.getFilesList()) {
      files.row(f.getPid(), f.getFd(), f.getType(), f.getPath(), f.getPos(), f.getSize());
    }
    out.append(files);
    out.append(PluginReports.text(inspection.reports()));
    for (String missing : s.getPluginsNotInstalledList()) {
      out.append(f("%n%s: plugin not installed here; its files are not summarised"
          + " (--plugin-dir adds plugin jars)%n", missing));
    }
    stats(out, s);
    out.append(f("%nimage files: %d, %s%n", s.getImageFilesCount(),
        Sizes.bytes(s.getImageFilesList().stream().mapToLong(ImageFileSummary::getSize).sum())));
    return out.toString();
  }

  private static void tree(StringBuilder out, SetSummary s, int ppid, String indent) {
    for (ProcessSummary p : s.getProcessesList()) {
      boolean root = ppid == 0 ? p.getPid() == s.getRootPid() : p.getPpid() == ppid
          && p.getPid() != ppid;
      if (!root) {
        continue;
      }
      String prefix = indent.isEmpty() ? "  " : indent + "└─ ";
      if (p.getZombie()) {
        out.append(f("%s%d <zombie> exit status %d, ppid %d%n", prefix, p.getPid(),
            p.getExitStatus(), p.getPpid()));
        continue;
      }
      out.append(f("%s%d %s %s%n", prefix, p.getPid(), p.getExe(),
          String.join(" ", p.getArgvList())));
      out.append(f("%s    ppid %d, pgid %d, sid %d, %d thread%s, %s stored%s%n", indent,
          p.getPpid(), p.getPgid(), p.getSid(), p.getThreadsCount(),
          p.getThreadsCount() == 1 ? "" : "s", Sizes.bytes(p.getStoredPages() * 4096),
          p.getPendingSignals() == 0 ? "" : f(", signals pending 0x%x", p.getPendingSignals())));
      for (ThreadSummary t : p.getThreadsList()) {
        out.append(f("%s    thread %d pc %d%n", indent, t.getTid(), t.getPc()));
      }
      tree(out, s, p.getPid(), indent + "  ");
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
        + " (compression %s, %d threads)%n", Sizes.bytes(st.getBytesRead()),
        Sizes.bytes(st.getBytesWritten()), s.getMemdumpMbPerS(), s.getCompressionRatio(),
        st.getCompression(), st.getThreads()));
    if (s.getDeviceBytes() > 0) {
      out.append(f("  device memory: %s saved, %s stored, ratio %.2f%n",
          Sizes.bytes(s.getDeviceBytes()), Sizes.bytes(s.getDeviceStoredBytes()),
          SetSummaries.round(s.getDeviceBytes() / (double) s.getDeviceStoredBytes())));
    }
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}

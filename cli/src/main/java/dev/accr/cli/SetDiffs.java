package dev.accr.cli;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.accr.api.PageDigests;
import dev.accr.api.Untrusted;
import dev.accr.engine.ImageDecoder;
import dev.accr.plugin.PluginHost;
import dev.accr.engine.ImageChain;
import dev.accr.engine.ImageSet;
import dev.accr.engine.ChainDiffPages;
import dev.accr.image.ImageKind;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.PageCounts;
import dev.accr.proto.SetDiff;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaChange;
import dev.accr.proto.VmaEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code accr diff}: what changed between two checkpoints of one process or process tree.
 * Host pages are compared by content (a hash of each stored page) per VMA of each process; a
 * page stored in only one set was zero or untouched in the other. Process and device state is
 * compared entry by entry, matched on each entry's first field (its id): the tree (pstree.img:
 * parents, groups, zombies, pending signals), open files, pipes with their buffered bytes and
 * shared memory; and each installed plugin compares what only it understands (e.g. device
 * memory, shared device buffers).
 */
final class SetDiffs {
  private static final int MAX_VALUE_LENGTH = 60;

  /** The differences, and the plugins' reports they hold (their tables for text). */
  record Comparison(SetDiff diff, List<PluginReports.Named> reports, String otherProgram) {}

  private SetDiffs() {}

  static Comparison of(Path fromDir, Path toDir, PluginHost plugins) throws IOException {
    ImageChain fromChain = ImageChain.read(fromDir);
    ImageChain toChain = ImageChain.read(toDir);
    ImageSet from = fromChain.last();
    ImageSet to = toChain.last();
    SetDiff.Builder out = SetDiff.newBuilder().setFromId(from.id().toString())
        .setToId(to.id().toString());
    if (from.inventory().getRootPid() != to.inventory().getRootPid()) {
      out.addStateChanges("root pid " + from.inventory().getRootPid() + " -> "
          + to.inventory().getRootPid() + " (not the same process?)");
    }
    for (int pid : new TreeSet<>(from.processes().keySet())) {
      ImageSet.ProcessImages b = to.processes().get(pid);
      if (b == null) {
        out.addStateChanges("process " + pid + " removed");
        continue;
      }
      memory(out, pid, fromChain, toChain);
      threads(out, pid, from.processes().get(pid).core().getThreadsList(),
          b.core().getThreadsList());
    }
    for (int pid : new TreeSet<>(to.processes().keySet())) {
      if (!from.processes().containsKey(pid)) {
        out.addStateChanges("process " + pid + " added");
      }
    }
    List<PluginReports.Named> reports = PluginReports.diff(List.copyOf(plugins.plugins()), fromDir, from.id(), toDir,
        to.id());
    out.addAllReports(PluginReports.toProto(reports));
    for (String name : entryFiles(fromDir, toDir)) {
      entries(out, name, decoded(fromDir.resolve(name), plugins),
          decoded(toDir.resolve(name), plugins));
    }
    return new Comparison(out.build(), reports, otherProgram(from, to));
  }

  /**
   * What tells the two sets' root processes apart as programs (workload or command line), or
   * null when they run the same program.
   */
  private static String otherProgram(ImageSet from, ImageSet to) {
    var a = from.processes().get(from.inventory().getRootPid());
    var b = to.processes().get(to.inventory().getRootPid());
    if (a == null || b == null) {
      return null;
    }
    String p = program(a.core());
    String q = program(b.core());
    return p.equals(q) ? null : "the sets are of different programs: '" + Untrusted.line(p)
        + "' and '" + Untrusted.line(q) + "'";
  }

  private static String program(CoreEntry core) {
    return (core.getExe() + " " + String.join(" ", core.getArgvList())).strip();
  }

  private static void memory(SetDiff.Builder out, int pid, ImageChain fromChain,
      ImageChain toChain) throws IOException {
    ImageSet from = fromChain.last();
    ImageSet to = toChain.last();
    ChainDiffPages.Pair pages = ChainDiffPages.of(fromChain, toChain, pid);
    NavigableMap<Long, Long> a = pages.from();
    NavigableMap<Long, Long> b = pages.to();
    Map<String, VmaEntry[]> vmas = new TreeMap<>();
    for (VmaEntry v : from.processes().get(pid).mm().getVmasList()) {
      vmas.computeIfAbsent(key(v), k -> new VmaEntry[2])[0] = v;
    }
    for (VmaEntry v : to.processes().get(pid).mm().getVmasList()) {
      vmas.computeIfAbsent(key(v), k -> new VmaEntry[2])[1] = v;
    }
    for (VmaEntry[] pair : vmas.values()) {
      VmaEntry v = pair[0] != null ? pair[0] : pair[1];
      out.addVmas(VmaChange.newBuilder().setPid(pid).setStart(v.getStart())
          .setEnd(v.getStart() + v.getLength()).setName(v.getName()).setStatus(status(pair))
          .setPages(compare(a, b, v.getStart(), v.getStart() + v.getLength())));
    }
  }

  private static String key(VmaEntry v) {
    return String.format("%016x-%016x", v.getStart(), v.getStart() + v.getLength());
  }

  private static String status(Object[] pair) {
    return pair[0] == null ? "added" : pair[1] == null ? "removed" : "";
  }

  /** The stored pages of a and b in [start, end), compared. */
  private static PageCounts compare(NavigableMap<Long, Long> a, NavigableMap<Long, Long> b,
      long start, long end) {
    PageDigests.Counts c = PageDigests.compare(a, b, start, end);
    return PageCounts.newBuilder().setChanged(c.changed()).setAdded(c.added())
        .setRemoved(c.removed()).setSame(c.same()).build();
  }

  private static void threads(SetDiff.Builder out, int pid, List<ThreadCoreEntry> a,
      List<ThreadCoreEntry> b) {
    Map<Integer, ThreadCoreEntry> before = new LinkedHashMap<>();
    a.forEach(t -> before.put(t.getTid(), t));
    for (ThreadCoreEntry t : b) {
      ThreadCoreEntry old = before.remove(t.getTid());
      if (old == null) {
        out.addStateChanges("process " + pid + " thread " + t.getTid() + " added");
      } else if (!old.equals(t)) {
        out.addStateChanges("process " + pid + " thread " + t.getTid() + ": pc " + old.getPc()
            + " -> " + t.getPc() + (old.getGprList().equals(t.getGprList()) ? ""
                : ", registers changed"));
      }
    }
    before.keySet().forEach(tid -> out.addStateChanges("process " + pid + " thread " + tid
        + " removed"));
  }

  /**
   * The files compared entry by entry: the process tree and what its processes share
   * (pstree.img, files.img, pipes.img, shmem.img: a set without pipes or shared memory has
   * none of the last two), and plugin entry files present in both sets under the same name.
   */
  private static List<String> entryFiles(Path a, Path b) throws IOException {
    List<String> out = new ArrayList<>();
    for (ImageKind kind : List.of(ImageKind.PSTREE, ImageKind.FILES, ImageKind.PIPES,
        ImageKind.SHMEM)) {
      String name = kind.fileName();
      if (Files.exists(a.resolve(name)) || Files.exists(b.resolve(name))) {
        out.add(name);
      }
    }
    try (Stream<Path> files = Files.list(a)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (ImageKind.ofFileName(name) == ImageKind.PLUGIN && Files.exists(b.resolve(name))) {
          out.add(name);
        }
      }
    }
    return out;
  }

  /** The entries of an entry file, none when the set has no such file. */
  private static List<Message> decoded(Path file, PluginHost plugins) throws IOException {
    return Files.exists(file) ? ImageDecoder.decode(file, plugins).entries() : List.of();
  }

  /** Entries matched on their first field; one line per changed field. */
  private static void entries(SetDiff.Builder out, String file, List<Message> a,
      List<Message> b) {
    Map<String, Message> before = new LinkedHashMap<>();
    a.forEach(m -> before.put(idOf(m), m));
    for (Message m : b) {
      String id = idOf(m);
      Message old = before.remove(id);
      if (old == null) {
        out.addStateChanges(file + " " + id + " added");
        continue;
      }
      for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
        Object x = old.getField(f);
        Object y = m.getField(f);
        if (!Objects.equals(x, y)) {
          String was = valueOf(old, f);
          String now = valueOf(m, f);
          boolean bytes = f.getType() == FieldDescriptor.Type.BYTES && !f.isRepeated();
          boolean summarize = bytes || was.length() + now.length() > MAX_VALUE_LENGTH;
          out.addStateChanges(file + " " + id + ": " + f.getName()
              + (summarize ? " changed" + sizes(bytes, x, y) : " " + was + " -> " + now));
        }
      }
    }
    before.keySet().forEach(id -> out.addStateChanges(file + " " + id + " removed"));
  }

  /** The lengths of two byte strings that differ in length (e.g. a pipe's bytes), or "". */
  private static String sizes(boolean bytes, Object was, Object now) {
    if (!bytes) {
      return "";
    }
    int a = ((com.google.protobuf.ByteString) was).size();
    int b = ((com.google.protobuf.ByteString) now).size();
    return a == b ? "" : " (" + a + " -> " + b + " bytes)";
  }

  private static String idOf(Message m) {
    List<FieldDescriptor> fields = m.getDescriptorForType().getFields();
    if (fields.isEmpty()) {
      return "entry";
    }
    return fields.getFirst().getName() + "=" + valueOf(m, fields.getFirst());
  }

  private static String valueOf(Message m, FieldDescriptor f) {
    if (!f.isRepeated() && f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
      return String.valueOf(m.getField(f));
    }
    String text = TextFormat.printer().emittingSingleLine(true)
        .printFieldToString(f, m.getField(f)).strip();
    return "[" + text.replace(f.getName() + ": ", "").replace(f.getName() + " ", "") + "]";
  }
}

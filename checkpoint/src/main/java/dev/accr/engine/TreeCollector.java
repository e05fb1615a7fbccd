package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceMapping;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.kernel.DeviceDescription;
import dev.accr.kernel.FileDescription;
import dev.accr.kernel.Lineage;
import dev.accr.kernel.MemfdFile;
import dev.accr.kernel.Node;
import dev.accr.kernel.OpenFile;
import dev.accr.kernel.Pipe;
import dev.accr.kernel.PipeEnd;
import dev.accr.kernel.SharedMemory;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.SocketEnd;
import dev.accr.kernel.Vma;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.ExtFileEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.MemfdFileEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.PipeFileEntry;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.SocketFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the non-memory state of a frozen tree into image entries, writing each kernel object
 * the processes share once: an open file description shared by several descriptors is one
 * entry of files.img, a pipe (or a socket pair's direction) one entry of pipes.img with its
 * buffered bytes, a shared-memory object one entry of shmem.img whose pages one mapping (its
 * owner's) stores. A description, pipe or object that a process outside the tree also holds
 * fails the dump (exit code 1), naming both processes, as CRIU refuses external resources.
 */
final class TreeCollector {
  /** The entries of a tree. */
  record Collected(Map<Integer, ProcessCollector.Collected> processes, List<PstreeEntry> pstree,
      List<FileEntry> files, List<PipeEntry> pipes, List<ShmemEntry> shmem,
      Set<Vma> pagesElsewhere) {
    ProcessCollector.Collected of(int pid) {
      return processes.get(pid);
    }

    /** Whether {@code vma}'s pages are stored (not by another mapping of the same object). */
    boolean storesPages(Vma vma) {
      return !pagesElsewhere.contains(vma);
    }

    /** Writes the files of the set that describe the whole tree. */
    void writeShared(ImageSetWriter set) throws IOException {
      write(set, ImageKind.PSTREE, pstree);
      write(set, ImageKind.FILES, files);
      if (!pipes.isEmpty()) {
        write(set, ImageKind.PIPES, pipes);
      }
      if (!shmem.isEmpty()) {
        write(set, ImageKind.SHMEM, shmem);
      }
    }

    private static void write(ImageSetWriter set, ImageKind kind,
        List<? extends com.google.protobuf.MessageLite> entries) throws IOException {
      // Through the set's sink: a set streamed to another node has no local files.
      EntryImageCodec.write(set.sink(), kind.fileName(), kind, set.id(), entries);
    }
  }

  private final Node node;
  private final List<SimProcess> tree;
  private final PluginSession session;
  private final Map<FileDescription, Integer> fileIds = new IdentityHashMap<>();
  private final Map<FileDescription, Integer> fdsInTree = new IdentityHashMap<>();
  private final Map<Pipe, int[]> pipeEnds = new IdentityHashMap<>(); // {id, readers, writers}
  private final Map<SharedMemory, Integer> shmIds = new IdentityHashMap<>();
  private final Map<SharedMemory, Integer> shmHolders = new IdentityHashMap<>();
  private final Map<SharedMemory, Vma> shmOwnerVma = new IdentityHashMap<>();
  private final Map<SharedMemory, Integer> shmOwnerPid = new IdentityHashMap<>();
  private final java.util.Set<Vma> pagesElsewhere =
      java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private final List<FileEntry> files = new ArrayList<>();
  /** Who in the tree holds each object first, for messages: "process 1001 (fd 4)". */
  private final Map<Object, String> firstHolder = new IdentityHashMap<>();

  private TreeCollector(Node node, List<SimProcess> tree, PluginSession session) {
    this.node = node;
    this.tree = tree;
    this.session = session;
  }

  /**
   * The entries of the frozen {@code tree} (the root first; zombies included); with
   * {@code session} null (a pre-dump, memory only) device files are left out and device
   * mappings are recorded without asking their plugins.
   */
  static Collected collect(Node node, List<SimProcess> tree, PluginSession session) {
    return new TreeCollector(node, tree, session).collect();
  }

  private Collected collect() {
    Map<Integer, ProcessCollector.Collected> each = new LinkedHashMap<>();
    List<PstreeEntry> pstree = new ArrayList<>();
    for (SimProcess p : tree) {
      boolean zombie = p.lineage().exited();
      PstreeEntry entry = pstree(p, zombie);
      pstree.add(entry);
      if (zombie) {
        continue;
      }
      CoreEntry core = core(p);
      MmEntry mm = mm(p);
      each.put(p.pid(), new ProcessCollector.Collected(entry, core, mm, List.of()));
    }
    checkExternal();
    List<PipeEntry> pipes = new ArrayList<>();
    pipeEnds.forEach((pipe, e) -> pipes.add(PipeEntry.newBuilder().setId(e[0])
        .setCapacity(pipe.capacity()).setData(ByteString.copyFrom(pipe.contents()))
        .setReaders(e[1]).setWriters(e[2]).build()));
    List<ShmemEntry> shmem = new ArrayList<>();
    shmIds.forEach((shm, id) -> {
      Vma owner = shmOwnerVma.get(shm);
      if (owner == null && shm.residentPages() > 0) {
        throw AccrException.failed("dump: %s holds %d pages but no process of the tree maps it:"
            + " only mapped shared memory can be saved", shm, shm.residentPages());
      }
      ShmemEntry.Builder s = ShmemEntry.newBuilder().setId(id).setName(shm.name())
          .setLength(shm.length());
      if (owner != null) {
        s.setOwnerPid(shmOwnerPid.get(shm)).setOwnerVaddr(owner.start());
      }
      shmem.add(s.build());
    });
    pipes.sort(java.util.Comparator.comparingInt(PipeEntry::getId));
    shmem.sort(java.util.Comparator.comparingInt(ShmemEntry::getId));
    return new Collected(each, List.copyOf(pstree), List.copyOf(files), List.copyOf(pipes),
        List.copyOf(shmem), pagesElsewhere);
  }

  private static PstreeEntry pstree(SimProcess p, boolean zombie) {
    Lineage.Restored l = p.lineage().saved();
    PstreeEntry.Builder e = PstreeEntry.newBuilder().setPid(p.pid()).setPpid(l.ppid())
        .setPgid(l.pgid()).setSid(l.sid()).setZombie(zombie)
        .setPendingSignals(l.pendingSignals()).setCaughtSignals(l.caughtSignals())
        .setStatusOnReturn(l.statusOnReturn()).setDescendants(l.descendants());
    for (long lane : l.descendantSum()) {
      e.addDescendantSum(lane);
    }
    if (zombie) {
      e.setExitStatus(l.exitStatus()).setOwnDigest(l.ownDigest() == null ? "" : l.ownDigest());
    } else {
      for (SimThread t : p.threads()) {
        e.addThreads(t.tid());
      }
    }
    return e.build();
  }

  private CoreEntry core(SimProcess p) {
    CoreEntry.Builder core = CoreEntry.newBuilder().setPid(p.pid()).setExe(p.workload().name())
        .addAllArgv(p.argv()).setStepDelayMs(p.stepDelayMs()).setCwd(p.workingDirectory());
    for (SimThread t : p.threads()) {
      ThreadCoreEntry.Builder tc = ThreadCoreEntry.newBuilder().setTid(t.tid()).setPc(t.pc());
      for (int i = 0; i < SimThread.GPR_COUNT; i++) {
        tc.addGpr(t.gpr(i));
      }
      core.addThreads(tc);
    }
    for (Map.Entry<Integer, FileDescription> e : p.files().descriptions().entrySet()) {
      int fd = e.getKey();
      FileDescription d = e.getValue();
      if (session == null && d instanceof DeviceDescription) {
        continue; // a pre-dump saves memory only
      }
      fdsInTree.merge(d, 1, Integer::sum);
      String holder = "process " + p.pid() + " (fd " + fd + ")";
      firstHolder.putIfAbsent(d, holder);
      switch (d) {
        case PipeEnd end -> firstHolder.putIfAbsent(end.pipe(), holder);
        case SocketEnd end -> {
          firstHolder.putIfAbsent(end.in(), holder);
          firstHolder.putIfAbsent(end.out(), holder);
        }
        case MemfdFile m -> firstHolder.putIfAbsent(m.memory(), holder);
        default -> { }
      }
      Integer id = fileIds.get(d);
      if (id == null) {
        id = files.size() + 1;
        fileIds.put(d, id);
        files.add(fileEntry(p, fd, d, id));
      }
      core.addFds(FdEntry.newBuilder().setFd(fd).setFileId(id));
    }
    return core.build();
  }

  private FileEntry fileEntry(SimProcess p, int fd, FileDescription d, int id) {
    FileEntry.Builder f = FileEntry.newBuilder().setId(id);
    switch (d) {
      case OpenFile o -> {
        long size;
        try {
          size = o.size();
        } catch (IOException ex) {
          throw AccrException.failed("dump: cannot stat %s: %s", o.path(), ex.getMessage());
        }
        f.setReg(RegFileEntry.newBuilder().setPath(o.path().toString()).setFlags(o.flags())
            .setPos(o.position()).setSize(size));
      }
      case DeviceDescription dev -> f.setExt(ExtFileEntry.newBuilder()
          .setPlugin(session.dumpExtFile(p, fd, dev.file())).setPath(dev.file().path()));
      case PipeEnd end -> f.setPipe(PipeFileEntry.newBuilder()
          .setPipeId(pipe(end.pipe(), end.isReadEnd(), !end.isReadEnd()))
          .setReadEnd(end.isReadEnd()));
      case SocketEnd end -> f.setSocket(SocketFileEntry.newBuilder()
          .setInPipeId(pipe(end.in(), true, false)).setOutPipeId(pipe(end.out(), false, true)));
      case MemfdFile m -> {
        f.setMemfd(MemfdFileEntry.newBuilder().setShmemId(shm(m.memory())));
      }
    }
    return f.build();
  }

  private int pipe(Pipe pipe, boolean reader, boolean writer) {
    int[] e = pipeEnds.computeIfAbsent(pipe, k -> new int[] {pipeEnds.size() + 1, 0, 0});
    e[1] += reader ? 1 : 0;
    e[2] += writer ? 1 : 0;
    return e[0];
  }

  private int shm(SharedMemory shm) {
    shmHolders.merge(shm, 1, Integer::sum);
    return shmIds.computeIfAbsent(shm, k -> shmIds.size() + 1);
  }

  private MmEntry mm(SimProcess p) {
    MmEntry.Builder mm = MmEntry.newBuilder().setPid(p.pid());
    for (Vma v : p.memory().vmas()) {
      if (v.kind() == Vma.Kind.DEVICE && session != null) {
        session.handleDeviceVma(p, new DeviceMapping(v.start(), v.length(), v.prot(),
            v.path(), v.offset()));
      }
      VmaEntry.Builder vma = VmaEntry.newBuilder().setStart(v.start()).setLength(v.length())
          .setProt(v.prot()).setKind(ProcessCollector.kindOf(v.kind())).setName(v.name())
          .setPath(v.path()).setOffset(v.offset());
      SharedMemory shm = v.shared();
      if (shm != null) {
        firstHolder.putIfAbsent(shm, "process " + p.pid() + " (mapping "
            + Long.toHexString(v.start()) + ")");
        vma.setShmemId(shm(shm));
        if (shmOwnerVma.putIfAbsent(shm, v) == null) {
          shmOwnerPid.put(shm, p.pid());
        } else {
          pagesElsewhere.add(v);
        }
      }
      if (v.kind() != Vma.Kind.DEVICE) {
        vma.setTouchedPages(v.touchedPages());
      }
      mm.addVmas(vma);
    }
    return mm.build();
  }

  /** Fails the dump if a process outside the tree holds something the tree holds. */
  private void checkExternal() {
    for (var e : fdsInTree.entrySet()) {
      FileDescription d = e.getKey();
      if (d.references() > e.getValue()) {
        refuse(d, (q, other) -> other == d);
      }
    }
    for (var e : pipeEnds.entrySet()) {
      Pipe pipe = e.getKey();
      if (pipe.readers() > e.getValue()[1] || pipe.writers() > e.getValue()[2]) {
        refuse(pipe, (q, d) -> d instanceof PipeEnd end && end.pipe() == pipe
            || d instanceof SocketEnd s && (s.in() == pipe || s.out() == pipe));
      }
    }
    for (var e : shmHolders.entrySet()) {
      SharedMemory shm = e.getKey();
      if (shm.holders() > e.getValue()) {
        for (SimProcess q : outside()) {
          for (Vma v : q.memory().vmas()) {
            if (v.shared() == shm) {
              throw external(shm, q.pid(), "mapping " + Long.toHexString(v.start()));
            }
          }
        }
        refuse(shm, (q, d) -> d instanceof MemfdFile m && m.memory() == shm);
      }
    }
  }

  private interface Holds {
    boolean test(SimProcess q, FileDescription d);
  }

  private void refuse(Object object, Holds holds) {
    for (SimProcess q : outside()) {
      for (var fd : q.files().descriptions().entrySet()) {
        if (holds.test(q, fd.getValue())) {
          throw external(object, q.pid(), "fd " + fd.getKey());
        }
      }
    }
    throw external(object, 0, null);
  }

  private AccrException external(Object object, int outsider, String how) {
    String inside = firstHolder.getOrDefault(object, "the tree");
    int root = tree.getFirst().pid();
    return outsider == 0
        ? AccrException.failed("dump of %d refused: %s of %s is also held outside the tree",
            root, object, inside)
        : AccrException.failed("dump of %d refused: %s of %s is shared with process %d outside"
            + " the tree (%s): external resources are not dumped", root, object, inside,
            outsider, how);
  }

  private List<SimProcess> outside() {
    List<SimProcess> out = new ArrayList<>();
    for (SimProcess q : node.processes()) {
      if (!tree.contains(q) && q.state() != SimProcess.State.EXITED) {
        out.add(q);
      }
    }
    return out;
  }

  /** The statistics of two processes' images as those of one dump. */
  static DumpStatsEntry.Builder add(DumpStatsEntry.Builder a, DumpStatsEntry.Builder b) {
    return a.setMemdumpTimeUs(a.getMemdumpTimeUs() + b.getMemdumpTimeUs())
        .setPagesScanned(a.getPagesScanned() + b.getPagesScanned())
        .setPagesSkippedZero(a.getPagesSkippedZero() + b.getPagesSkippedZero())
        .setPagesWritten(a.getPagesWritten() + b.getPagesWritten())
        .setBytesRead(a.getBytesRead() + b.getBytesRead())
        .setBytesWritten(a.getBytesWritten() + b.getBytesWritten())
        .setThreads(a.getThreads() + b.getThreads());
  }
}

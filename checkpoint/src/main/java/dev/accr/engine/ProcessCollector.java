package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceFile;
import dev.accr.api.DeviceMapping;
import dev.accr.kernel.OpenFile;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.Vma;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.ExtFileEntry;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import dev.accr.proto.VmaKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Turns the non-memory state of a frozen process into image entries. */
final class ProcessCollector {
  private ProcessCollector() {}

  /** The entries of one process. */
  record Collected(PstreeEntry pstree, CoreEntry core, MmEntry mm, List<FileEntry> files) {}

  /**
   * The entries of {@code p}; with {@code plugins} null (a pre-dump, memory only) device files
   * are left out and device mappings are recorded without asking their plugins.
   */
  static Collected collect(SimProcess p, int firstFileId, PluginSession plugins) {
    PstreeEntry.Builder pstree = PstreeEntry.newBuilder().setPid(p.pid()).setPgid(p.pid())
        .setSid(p.pid());
    CoreEntry.Builder core = CoreEntry.newBuilder().setPid(p.pid()).setExe(p.workload().name())
        .addAllArgv(p.argv()).setStepDelayMs(p.stepDelayMs()).setCwd(p.workingDirectory());
    for (SimThread t : p.threads()) {
      pstree.addThreads(t.tid());
      ThreadCoreEntry.Builder tc = ThreadCoreEntry.newBuilder().setTid(t.tid()).setPc(t.pc());
      for (int i = 0; i < SimThread.GPR_COUNT; i++) {
        tc.addGpr(t.gpr(i));
      }
      core.addThreads(tc);
    }
    List<FileEntry> files = new ArrayList<>();
    int fileId = firstFileId;
    for (Map.Entry<Integer, OpenFile> e : p.files().snapshot().entrySet()) {
      OpenFile f = e.getValue();
      long size;
      try {
        size = f.size();
      } catch (IOException ex) {
        throw AccrException.failed("dump: cannot stat %s: %s", f.path(), ex.getMessage());
      }
      files.add(FileEntry.newBuilder().setId(fileId).setReg(RegFileEntry.newBuilder()
          .setPath(f.path().toString()).setFlags(f.flags()).setPos(f.position()).setSize(size))
          .build());
      core.addFds(FdEntry.newBuilder().setFd(e.getKey()).setFileId(fileId));
      fileId++;
    }
    for (Map.Entry<Integer, DeviceFile> e : plugins == null ? Map.<Integer, DeviceFile>of()
        .entrySet() : p.files().devices().entrySet()) {
      String plugin = plugins.dumpExtFile(p, e.getKey(), e.getValue());
      files.add(FileEntry.newBuilder().setId(fileId).setExt(ExtFileEntry.newBuilder()
          .setPlugin(plugin).setPath(e.getValue().path())).build());
      core.addFds(FdEntry.newBuilder().setFd(e.getKey()).setFileId(fileId));
      fileId++;
    }
    List<FdEntry> byFd = core.getFdsList().stream()
        .sorted(Comparator.comparingInt(FdEntry::getFd)).toList();
    core.clearFds().addAllFds(byFd);
    MmEntry.Builder mm = MmEntry.newBuilder().setPid(p.pid());
    for (Vma v : p.memory().vmas()) {
      if (v.kind() == Vma.Kind.DEVICE && plugins != null) {
        plugins.handleDeviceVma(p, new DeviceMapping(v.start(), v.length(), v.prot(),
            v.path(), v.offset()));
      }
      VmaEntry.Builder vma = VmaEntry.newBuilder().setStart(v.start()).setLength(v.length())
          .setProt(v.prot()).setKind(kindOf(v.kind())).setName(v.name()).setPath(v.path())
          .setOffset(v.offset());
      if (v.kind() != Vma.Kind.DEVICE) {
        vma.setTouchedPages(v.touchedPages());
      }
      mm.addVmas(vma);
    }
    return new Collected(pstree.build(), core.build(), mm.build(), files);
  }

  static VmaKind kindOf(Vma.Kind kind) {
    return switch (kind) {
      case ANON -> VmaKind.VMA_ANON;
      case FILE -> VmaKind.VMA_FILE;
      case DEVICE -> VmaKind.VMA_DEVICE;
    };
  }

  static Vma.Kind kindOf(VmaKind kind) {
    return switch (kind) {
      case VMA_FILE -> Vma.Kind.FILE;
      case VMA_DEVICE -> Vma.Kind.DEVICE;
      default -> Vma.Kind.ANON;
    };
  }
}

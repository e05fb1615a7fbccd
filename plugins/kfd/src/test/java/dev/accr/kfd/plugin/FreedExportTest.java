package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.engine.Compactor;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdDeviceType;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process exports a VRAM buffer, another imports it (on a GPU of the same XGMI hive), then
 * the exporter frees its buffer and closes its descriptor: as with dma-buf's reference
 * counting, the memory lives on while imported. The tree, dumped at moments after the free (the exporter still running, then a
 * zombie), restores and ends with the digest of an uninterrupted run.
 */
class FreedExportTest {
  private static final long SHARED = 0x5000_0000L;
  private static final long EXPORTED_VA = 0x40_0000_0000L;
  private static final long IMPORTED_VA = 0x50_0000_0000L;
  private static final long SIZE = 64 << 10;
  private static final int STEPS = 40;

  @TempDir Path tmp;

  /**
   * The parent forks; the child allocates and fills a buffer and exports it; the parent takes
   * the descriptor and imports it; the child frees its buffer, closes the descriptor and runs
   * a while before it exits; the parent keeps rewriting the buffer (summing what it reads in
   * a register), then reaps the child.
   */
  static final class FreedExport implements Workload {
    // Registers of thread 0: phase, step, /dev/kfd descriptor, buffer handle, role.
    private static final int PHASE = 0;
    private static final int STEP = 1;
    private static final int KFD = 2;
    private static final int HANDLE = 3;
    private static final int CHILD = 4;
    /** What the parent read from the buffer: its contents reach the digest through it. */
    private static final int SUM = 5;
    /** The child's steps between the import and the free. */
    private static final int WAITED = 6;

    @Override
    public String name() {
      return "freed-export";
    }

    @Override
    public String description() {
      return "an exporter frees a buffer its importer still holds";
    }

    @Override
    public String usage() {
      return "";
    }

    @Override
    public void exec(ProcessView p, List<String> args) {
      p.memory().mapShared(SHARED, 4096, Prot.RW, "flags");
    }

    @Override
    public boolean step(ProcessView p) {
      return p.thread(0).gpr(CHILD) == 0 ? parent(p) : child(p);
    }

    private static KfdProcess kfd(ProcessView p) {
      return p.files().device((int) p.thread(0).gpr(KFD), KfdProcess.class);
    }

    private static boolean parent(ProcessView p) {
      ThreadView t = p.thread(0);
      MemoryView m = p.memory();
      switch ((int) t.gpr(PHASE)) {
        case 0 -> {
          t.setGpr(CHILD, 1);
          m.writeLong(SHARED + 16, p.fork());
          t.setGpr(CHILD, 0);
          t.setGpr(PHASE, 1);
        }
        case 1 -> {
          if (m.readLong(SHARED) >= 1) {
            int fd = p.files().getFd((int) m.readLong(SHARED + 16), (int) m.readLong(SHARED + 8));
            int kfdFd = p.files().openDevice(KfdProcess.PATH);
            t.setGpr(KFD, kfdFd);
            KfdProcess kfd = kfd(p);
            int gpu = kfd.gpuIds().getFirst(); // the child's is its XGMI peer
            kfd.restrictDevices(List.of(gpu));
            t.setGpr(HANDLE, kfd.importDmaBuf(fd, gpu, IMPORTED_VA));
            p.files().close(fd); // the import holds the buffer
            m.writeLong(SHARED, 2);
            t.setGpr(PHASE, 2);
          }
        }
        case 2 -> {
          if (m.readLong(SHARED) >= 3) {
            t.setGpr(PHASE, 3);
          }
        }
        case 3 -> {
          long s = t.gpr(STEP);
          if (s < STEPS) {
            KfdProcess kfd = kfd(p);
            long next = kfd.cpuReadLong(IMPORTED_VA + 8 * ((s + 1) % (SIZE / 8)));
            kfd.cpuWriteLong(IMPORTED_VA + 8 * (s % (SIZE / 8)), next * 31 + s);
            t.setGpr(SUM, t.gpr(SUM) * 17 + next);
            t.setGpr(STEP, s + 1);
          } else {
            t.setGpr(PHASE, 4);
          }
        }
        default -> {
          return p.waitChild(-1) == FileView.WOULD_BLOCK;
        }
      }
      return true;
    }

    private static boolean child(ProcessView p) {
      ThreadView t = p.thread(0);
      MemoryView m = p.memory();
      switch ((int) t.gpr(PHASE)) {
        case 0 -> {
          int kfdFd = p.files().openDevice(KfdProcess.PATH);
          t.setGpr(KFD, kfdFd);
          KfdProcess kfd = kfd(p);
          int gpu = kfd.gpuIds().get(1);
          kfd.restrictDevices(List.of(gpu));
          int h = kfd.allocVram(gpu, EXPORTED_VA, SIZE, Bo.FLAG_CPU_VISIBLE);
          for (long at = 0; at < SIZE; at += 8) {
            kfd.cpuWriteLong(EXPORTED_VA + at, at * 7 + 1);
          }
          t.setGpr(HANDLE, h);
          m.writeLong(SHARED + 8, kfd.exportDmaBuf(h));
          m.writeLong(SHARED, 1);
          t.setGpr(PHASE, 1);
        }
        case 1 -> {
          if (m.readLong(SHARED) >= 2 && t.gpr(WAITED) < 3) {
            t.setGpr(WAITED, t.gpr(WAITED) + 1); // a few steps imported before the free
          } else if (m.readLong(SHARED) >= 2) {
            kfd(p).freeMemory((int) t.gpr(HANDLE));
            p.files().close((int) m.readLong(SHARED + 8));
            m.writeLong(SHARED, 3);
            t.setGpr(PHASE, 2);
          }
        }
        default -> {
          t.setGpr(STEP, t.gpr(STEP) + 1);
          return t.gpr(STEP) < STEPS / 2;
        }
      }
      return true;
    }
  }

  private static Node node(String name) {
    Registry r = Registry.of(List.of(new KfdPlugin()), List.of(new KfdDeviceType()),
        List.of(new FreedExport()));
    return new Node(name, r.topologies().load("mi250x4"), r);
  }

  private static long flag(SimProcess root) {
    return root.memory().readLong(SHARED);
  }

  @Test
  void aBufferItsExporterFreedLivesOnWhileImportedAndRestoresWithTheSameDigest()
      throws Exception {
    String expected;
    try (Node a = node("a")) {
      expected = Scenarios.finish(a, a.create("freed-export", List.of(), tmp, 0));
      assertEquals(0, a.driver("kfd", KfdDriver.class).allocatedVramBytes());
    }
    // Just after the free, the exporter still running; later, the exporter a zombie.
    for (int after : new int[] {1, STEPS / 2 + 3}) {
      Path set = tmp.resolve("after-" + after);
      try (Node a = node("a"); Node b = node("b")) {
        SimProcess root = a.create("freed-export", List.of(), tmp, 0);
        for (int i = 0; i < 100 && flag(root) < 3; i++) {
          Scenarios.step(a, root, 1);
        }
        assertEquals(3, flag(root), "the exporter freed its buffer");
        KfdDriver kfd = a.driver("kfd", KfdDriver.class);
        long kept = kfd.allocatedVramBytes();
        assertTrue(kept >= SIZE, "the import keeps the memory alive");
        assertEquals(1, kfd.dmaBufCount());
        Scenarios.step(a, root, after);
        Scenarios.dump(a, root, set, DumpOptions.defaults());
        assertEquals(0, kfd.allocatedVramBytes(), "the dump ended the tree and freed its VRAM");
        ImageSet images = ImageSet.read(set);
        assertTrue(images.processes().size() == 2, "both processes are in the set");
        var shared = ((dev.accr.kfd.proto.KfdSummary) new KfdPlugin().summarize(
            dev.accr.plugin.SetImages.reader("kfd", set, images.id())).details())
            .getSharedBuffersList();
        assertEquals(1, shared.size(), shared.toString());
        assertTrue(shared.getFirst().getExporterFreed()
            && shared.getFirst().getImporters(0).getPid() == root.pid(), shared.toString());
        SimProcess again = Scenarios.restore(b, set);
        KfdDriver restored = b.driver("kfd", KfdDriver.class);
        assertEquals(kept, restored.allocatedVramBytes(), "the buffer restored once");
        assertEquals(1, restored.dmaBufCount());
        assertEquals(expected, Scenarios.finish(b, again), "dumped " + after + " rounds after");
        assertEquals(0, restored.allocatedVramBytes());
        assertEquals(0, restored.dmaBufCount());
      }
    }
  }
  @Test
  void aChainAcrossTheFreeRestoresAndCompactsToTheSameDigest() throws Exception {
    String expected;
    try (Node a = node("a")) {
      expected = Scenarios.finish(a, a.create("freed-export", List.of(), tmp, 0));
    }
    Path before = tmp.resolve("before");
    Path after = tmp.resolve("after");
    try (Node a = node("a")) {
      SimProcess root = a.create("freed-export", List.of(), tmp, 0);
      for (int i = 0; i < 100 && flag(root) < 2; i++) {
        Scenarios.step(a, root, 1);
      }
      assertEquals(2, flag(root), "imported, not yet freed");
      // The parent link stores the buffer with its exporter; the import stores nothing.
      new Dumper(a, Scenarios.plugins(a)).preDump(root.pid(), before, DumpOptions.defaults(),
          ProgressListener.NONE);
      for (int i = 0; i < 100 && flag(root) < 3; i++) {
        Scenarios.step(a, root, 1);
      }
      assertEquals(3, flag(root), "the exporter freed its buffer");
      // Dumped before the importer writes again: the contents it reads next come only from
      // what the exporter wrote, which this link must store with the import now keeping it.
      new Dumper(a, Scenarios.plugins(a)).withParent(before, UnaryOperator.identity())
          .dump(root.pid(), after, DumpOptions.defaults(), ProgressListener.NONE);
    }
    try (Node b = node("b")) {
      assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, after)), "the chain");
    }
    Path full = tmp.resolve("full");
    try (Node c = node("c")) {
      Compactor.compact(after, full, DumpOptions.defaults(), c.registry().plugins());
      assertEquals(expected, Scenarios.finish(c, Scenarios.restore(c, full)), "compacted");
    }
  }
}

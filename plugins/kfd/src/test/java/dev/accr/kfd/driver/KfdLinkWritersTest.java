package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.Prot;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.ProcessDigest;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.proto.KfdVramWritten;
import dev.accr.kfd.proto.QueueType;
import dev.accr.kfd.workload.WorkloadKernels;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Between two links of a chain (a pre-dump, then a dump naming it as parent), a page written
 * by each kind of writer — a dispatch, an SDMA copy into VRAM and into GTT, a CPU store through
 * the visible window, an SVM migration, a host store — is stored in the second link, and a page
 * nobody wrote is not; with a buffer freed and another allocated at its address between the
 * links, the chain restores on a renumbered topology to the digest the process had.
 */
class KfdLinkWritersTest {
  private static final long BASE = 0x60_0000_0000L; // away from kfd-train's buffers
  private static final long RINGS = BASE; // GTT: compute ring, SDMA ring, kernargs
  private static final long GTT = BASE + 0x1_0000L;
  private static final long VRAM = BASE + 0x1000_0000L;
  private static final long VISIBLE = BASE + 0x2000_0000L;
  private static final long REUSED = BASE + 0x3000_0000L; // freed and allocated again
  private static final long SVM = 0x70_0000_0000L;
  private static final long HOST = 0x71_0000_0000L;
  private static final int PAGES = 8;
  private static final long P = 4096;

  @TempDir Path tmp;
  private SimProcess process;
  private KfdProcess kfd;
  private int compute;
  private int sdma;
  private int event;
  private long signals;

  @Test
  void aPageWrittenByEachWriterIsInTheSecondLinkAndAnUnwrittenOneIsNot() throws Exception {
    try (Node node = KfdNodes.node("a", "mi100x2")) {
      process = node.create("kfd-train", List.of("--gpus", "1", "--vram-kib", "256", "--steps",
          "4"), tmp, 0);
      kfd = KfdNodes.kfd(node).process(process.pid());
      int gpu = kfd.gpuIds().getFirst();
      kfd.allocGtt(gpu, RINGS, 4 * P);
      compute = kfd.createQueue(gpu, QueueType.COMPUTE, 7, RINGS, 64);
      sdma = kfd.createQueue(gpu, QueueType.SDMA, 7, RINGS + P, 64);
      event = kfd.createEvent();
      kfd.allocGtt(gpu, GTT, PAGES * P);
      kfd.allocVram(gpu, VRAM, PAGES * P, 0);
      kfd.allocVram(gpu, VISIBLE, PAGES * P, Bo.FLAG_CPU_VISIBLE);
      process.memory().mapAnonymous(SVM, PAGES * P, Prot.RW, "svm");
      kfd.svmRegister(SVM, PAGES * P);
      kfd.svmSetAttributes(SVM, gpu, 0, Set.of(gpu), SvmRange.FLAG_COHERENT, 0);
      process.memory().mapAnonymous(HOST, PAGES * P, Prot.RW, "host");
      for (int i = 0; i < PAGES; i++) { // every page has contents before the first link
        process.memory().writeLong(HOST + i * P, i + 1);
        process.memory().writeLong(GTT + i * P, i + 1);
        kfd.cpuWriteLong(VISIBLE + i * P, i + 1);
      }
      dispatch(WorkloadKernels.Fill.ID, VRAM, 1); // VRAM page 0, before the first link
      int old = kfd.allocVram(gpu, REUSED, 2 * P, 0);
      dispatch(WorkloadKernels.Fill.ID, REUSED, 3);

      Path first = tmp.resolve("first");
      new Dumper(node, Scenarios.plugins(node)).preDump(process.pid(), first,
          DumpOptions.defaults(), ProgressListener.NONE);
      dispatch(WorkloadKernels.Fill.ID, VRAM + P, 9); // a dispatch: VRAM page 1
      copy(GTT, VRAM + 3 * P, P); // SDMA into VRAM page 3
      copy(VRAM, GTT + 6 * P, 100); // SDMA into GTT page 6 (part of it)
      kfd.cpuWriteLong(VISIBLE + 5 * P + 8, 42); // the CPU window: page 5
      // grad reads SVM page 2 as its weights (the fault migrates it to the GPU) and writes
      // its gradient into VRAM page 6
      dispatch(WorkloadKernels.Grad.ID, SVM + 2 * P, VRAM + 6 * P, GTT + 4 * P, 1);
      assertEquals(gpu, kfd.svmLocation(SVM + 2 * P));
      process.memory().writeLong(HOST + 4 * P, 77); // a host store: page 4
      kfd.freeMemory(old); // its page 0 must not come back from the first link
      kfd.allocVram(gpu, REUSED, 2 * P, 0);
      dispatch(WorkloadKernels.Fill.ID, REUSED + P, 4);
      Path second = tmp.resolve("second");
      new Dumper(node, Scenarios.plugins(node)).withParent(first, UnaryOperator.identity())
          .dump(process.pid(), second, DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE);

      TreeSet<Long> vram = writtenVram(second, process.pid());
      for (long page : List.of(VRAM + P, VRAM + 3 * P, VRAM + 6 * P, VISIBLE + 5 * P,
          SVM + 2 * P)) {
        assertTrue(vram.contains(page), Long.toHexString(page) + " in " + hex(vram));
      }
      for (long page : List.of(VRAM, VRAM + 2 * P, VRAM + 7 * P, VISIBLE, VISIBLE + 4 * P,
          SVM + 3 * P)) {
        assertFalse(vram.contains(page), Long.toHexString(page) + " not in " + hex(vram));
      }
      TreeSet<Long> host = storedHostPages(second, process.pid());
      for (long page : List.of(GTT + 6 * P, HOST + 4 * P)) {
        assertTrue(host.contains(page), Long.toHexString(page) + " in " + hex(host));
      }
      for (long page : List.of(GTT + 5 * P, GTT + 4 * P, HOST + 3 * P, HOST)) {
        assertFalse(host.contains(page), Long.toHexString(page) + " not in " + hex(host));
      }
      String digest = ProcessDigest.of(process);
      node.kill(process.pid());
      try (Node renumbered = KfdNodes.node("b", "mi100x2-renumbered")) {
        assertEquals(digest, ProcessDigest.of(Scenarios.restore(renumbered, second)));
      }
    }
  }

  /** The VRAM pages the link stores (its written ranges), by GPU address. */
  private static TreeSet<Long> writtenVram(Path set, int pid) throws Exception {
    TreeSet<Long> pages = new TreeSet<>();
    for (KfdVramWritten w : EntryImageCodec.read(set.resolve("kfd-vram-written-" + pid
        + ".img"), ImageKind.PLUGIN, null).parseAll(KfdVramWritten.parser())) {
      assertTrue(w.getPacked(), "current dumps pack the written ranges");
      for (int i = 0; i < w.getRunVaCount(); i++) {
        for (long a = w.getRunVa(i); a < w.getRunVa(i) + w.getRunLength(i); a += P) {
          pages.add(a & -P);
        }
      }
    }
    return pages;
  }

  private static TreeSet<Long> storedHostPages(Path set, int pid) throws Exception {
    TreeSet<Long> pages = new TreeSet<>();
    for (PageChunkEntry c : ImageSet.read(set).processes().get(pid).chunks()) {
      for (PageRun r : c.getRunsList()) {
        for (int i = 0; i < r.getNrPages(); i++) {
          pages.add(r.getVaddr() + i * P);
        }
      }
    }
    return pages;
  }

  private static List<String> hex(TreeSet<Long> pages) {
    return pages.stream().map(Long::toHexString).toList();
  }

  private void dispatch(int kernel, long... args) {
    long index = kfd.writeIndex(compute);
    long kernarg = RINGS + 2 * P + (index % 64) * 64;
    for (int i = 0; i < args.length; i++) {
      process.memory().writeLong(kernarg + 8L * i, args[i]);
    }
    Packets.write(process.memory(), RINGS, 64, index, Packets.DISPATCH, kernel, 1, kernarg,
        event, 0);
    kfd.ringDoorbell(compute, index + 1);
    kfd.waitEvent(event, ++signals);
  }

  private void copy(long src, long dst, long bytes) {
    long index = kfd.writeIndex(sdma);
    Packets.write(process.memory(), RINGS + P, 64, index, Packets.COPY, src, dst, bytes, event);
    kfd.ringDoorbell(sdma, index + 1);
    kfd.waitEvent(event, ++signals);
  }
}

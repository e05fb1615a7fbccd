package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.Prot;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.proto.QueueType;
import dev.accr.kfd.workload.WorkloadKernels;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's dirty tracking: after a clear, a page written by each kind of writer (a
 * dispatch, an SDMA copy into VRAM or GTT, a CPU store through the visible window, an SVM
 * migration either way) is reported, a page only read or not touched is not; clearing resets;
 * buffers allocated after a clear are wholly new and freed ones are named; a process that does
 * not track holds no bitmap.
 */
class KfdDirtyTrackingTest {
  static final long RINGS = 0x10_0000_0000L; // GTT: compute ring, SDMA ring, kernargs
  static final long GTT = 0x10_0001_0000L;
  static final long VRAM = 0x10_1000_0000L;
  static final long VISIBLE = 0x10_2000_0000L;
  static final long SVM = 0x20_0000_0000L;
  static final int PAGES = 8;
  static final long P = 4096;

  @TempDir Path tmp;
  Node node;
  SimProcess process;
  KfdProcess kfd;
  int gpu;
  int compute;
  int sdma;
  int event;
  long signals;
  long packets;

  @BeforeEach
  void setUp() {
    node = KfdNodes.node("a", "mi100x2");
    process = node.newProcess(4242, Scenarios.registry().workload("kfd-train"), List.of(), tmp,
        0);
    kfd = process.files().device(process.files().openDevice(KfdProcess.PATH), KfdProcess.class);
    gpu = kfd.gpuIds().getFirst();
    kfd.loadCodeObjects(List.of(kfd.properties(gpu).getGfxTargetVersion()));
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
  }

  @AfterEach
  void tearDown() {
    process.close();
    node.close();
  }

  @Test
  void aDispatchMarksThePagesItStoresToAndNotThoseItReads() {
    KfdCriu.startDirtyTracking(kfd);
    // grad: reads weights (VRAM page 1) and input (GTT page 4), writes grads (VRAM page 6)
    dispatch(WorkloadKernels.Grad.ID, VRAM + P, VRAM + 6 * P, GTT + 4 * P, 1);
    DirtyPages d = KfdCriu.dirtyPages(kfd, false);
    assertEquals(List.of(6), pages(d, VRAM));
    assertEquals(List.of(), pages(d, GTT), "a page only read is not written");
    dispatch(WorkloadKernels.Fill.ID, GTT + 2 * P, 9);
    assertEquals(List.of(2), pages(KfdCriu.dirtyPages(kfd, false), GTT));
  }

  @Test
  void sdmaCopiesMarkTheirTargetInVramAndInGtt() {
    KfdCriu.startDirtyTracking(kfd);
    copy(GTT, VRAM + 3 * P, 2 * P); // into VRAM pages 3 and 4
    DirtyPages d = KfdCriu.dirtyPages(kfd, true);
    assertEquals(List.of(3, 4), pages(d, VRAM));
    assertEquals(List.of(), pages(d, GTT), "the source is only read");
    copy(VRAM, GTT + 7 * P, 100); // a partial page into GTT page 7
    d = KfdCriu.dirtyPages(kfd, false);
    assertEquals(List.of(7), pages(d, GTT));
    assertEquals(List.of(), pages(d, VRAM));
  }

  @Test
  void cpuStoresThroughTheVisibleWindowMarkTheirPages() {
    KfdCriu.startDirtyTracking(kfd);
    kfd.cpuWriteLong(VISIBLE + 5 * P + 8, 42);
    kfd.cpuWrite(VISIBLE + P - 8, MemorySegment.ofArray(new long[2])); // pages 0 and 1
    assertEquals(42, kfd.cpuReadLong(VISIBLE + 5 * P + 8));
    assertEquals(List.of(0, 1, 5), pages(KfdCriu.dirtyPages(kfd, false), VISIBLE));
    assertThrows(AccrException.class, () -> kfd.cpuWriteLong(VRAM, 1),
        "VRAM beyond the window is not for the CPU");
    assertEquals(List.of(), pages(KfdCriu.dirtyPages(kfd, false), VRAM));
  }

  @Test
  void svmPagesThatMoveCountAsChangedEitherWay() {
    KfdCriu.startDirtyTracking(kfd);
    // grad reads SVM page 2 as its weights: the fault migrates it to the GPU it prefers
    dispatch(WorkloadKernels.Grad.ID, SVM + 2 * P, VRAM, GTT, 1);
    assertEquals(gpu, kfd.svmLocation(SVM + 2 * P));
    DirtyPages d = KfdCriu.dirtyPages(kfd, true);
    assertEquals(List.of(2), svmPages(d));
    assertEquals(List.of(SVM + 2 * P), KfdCriu.dirtyVramExtents(kfd, d).stream()
        .filter(e -> e.va() >= SVM).map(KfdCriu.VramExtent::va).toList(),
        "the moved page is saved where it lives now");
    kfd.svmPrefetch(SVM, SvmRange.SYSTEM); // only page 2 was on the GPU
    d = KfdCriu.dirtyPages(kfd, true);
    assertEquals(List.of(2), svmPages(d));
    assertTrue(KfdCriu.dirtyVramExtents(kfd, d).isEmpty(), "back in system memory");
    assertEquals(0, KfdCriu.dirtyPages(kfd, false).dirtyPageCount());
  }

  @Test
  void clearingResetsAndAFailedDumpGivesItsPagesBack() {
    KfdCriu.startDirtyTracking(kfd);
    kfd.cpuWriteLong(VISIBLE, 1);
    DirtyPages taken = KfdCriu.dirtyPages(kfd, true);
    assertEquals(List.of(0), pages(taken, VISIBLE));
    assertEquals(0, KfdCriu.dirtyPages(kfd, false).dirtyPageCount(), "clear resets");
    kfd.cpuWriteLong(VISIBLE + 2 * P, 1);
    KfdCriu.redirty(kfd, taken);
    assertEquals(List.of(0, 2), pages(KfdCriu.dirtyPages(kfd, false), VISIBLE));
    KfdCriu.startDirtyTracking(kfd); // starting again clears too
    assertEquals(0, KfdCriu.dirtyPages(kfd, false).dirtyPageCount());
  }

  @Test
  void buffersAllocatedAfterAClearAreWhollyNewAndFreedOnesAreNamed() {
    KfdCriu.startDirtyTracking(kfd);
    int old = kfd.allocVram(gpu, VRAM + 0x100_0000L, 2 * P, 0);
    KfdCriu.startDirtyTracking(kfd);
    kfd.freeMemory(old);
    int reborn = kfd.allocVram(gpu, VRAM + 0x100_0000L, 2 * P, 0);
    assertNotEquals(old, reborn, "handles are not reused");
    DirtyPages d = KfdCriu.dirtyPages(kfd, true);
    assertEquals(List.of(old), d.freedHandles());
    assertTrue(d.bo(reborn).created());
    assertTrue(d.bo(reborn).dirty().isFull(), "a buffer at a reused address is all new");
    assertTrue(KfdCriu.dirtyVramExtents(kfd, d).stream().anyMatch(
        e -> e.va() == VRAM + 0x100_0000L && e.length() == 2 * P));
    DirtyPages next = KfdCriu.dirtyPages(kfd, false);
    assertFalse(next.bo(reborn).created(), "new only to the first dump after it");
    assertEquals(List.of(), next.freedHandles());
    assertEquals(0, next.dirtyPageCount());
  }

  @Test
  void aProcessThatDoesNotTrackHoldsNoBitmap() {
    dispatch(WorkloadKernels.Fill.ID, VRAM, 1);
    kfd.cpuWriteLong(VISIBLE, 1);
    kfd.svmPrefetch(SVM, gpu);
    assertFalse(KfdCriu.isDirtyTracking(kfd));
    assertEquals(0, KfdCriu.dirtyTrackingBytes(kfd));
    kfd.vm.bos().forEach(bo -> assertNull(bo.dirty(), bo.toString()));
    kfd.vm.svmRanges().forEach(r -> assertNull(r.dirty()));
    assertThrows(AccrException.class, () -> KfdCriu.dirtyPages(kfd, false));
    KfdCriu.startDirtyTracking(kfd);
    assertTrue(KfdCriu.dirtyTrackingBytes(kfd) > 0);
    KfdCriu.stopDirtyTracking(kfd);
    assertEquals(0, KfdCriu.dirtyTrackingBytes(kfd), "stopping frees the bitmaps");
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

  private static List<Integer> pages(DirtyPages d, long va) {
    DirtyPages.BoPages b = d.bos().stream().filter(x -> x.va() == va).findFirst().orElseThrow();
    return b.dirty().runs().stream().flatMap(r -> java.util.stream.IntStream
        .range(r.first(), r.first() + r.count()).boxed()).toList();
  }

  private static List<Integer> svmPages(DirtyPages d) {
    PageBitmap b = d.svmRange(SVM).dirty();
    return java.util.stream.IntStream.range(0, b.pages()).filter(b::contains).boxed().toList();
  }
}

package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.proto.QueueType;
import dev.accr.kfd.workload.WorkloadKernels;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dma-buf sharing between two processes on mi250x4 (hives {0xbbfd, 0x73d3} and
 * {0xebfc, 0x43e8}): export keeps the memory alive while anyone holds it, an import on the
 * same GPU or an XGMI peer reaches the exporter's memory both ways, an import from a GPU
 * without a link is refused, writes through an import are tracked where the buffer is saved,
 * and a shared buffer's contents are digested once, with its exporter.
 */
class KfdDmaBufTest {
  static final long RINGS = 0x10_0000_0000L;
  static final long SHARED = 0x10_1000_0000L; // in the exporter
  static final long IMPORTED = 0x30_0000_0000L; // in the importer: another address
  static final long P = 4096;
  static final int PAGES = 4;

  @TempDir Path tmp;
  Node node;
  SimProcess exporterProcess;
  SimProcess importerProcess;
  KfdProcess exporter;
  KfdProcess importer;
  long signals;

  @BeforeEach
  void setUp() {
    node = KfdNodes.node("a", "mi250x4");
    exporterProcess = process(4242);
    importerProcess = process(4243);
    exporter = kfd(exporterProcess);
    importer = kfd(importerProcess);
  }

  private SimProcess process(int pid) {
    return node.newProcess(pid, Scenarios.registry().workload("kfd-train"), List.of(), tmp, 0);
  }

  private static KfdProcess kfd(SimProcess p) {
    KfdProcess k = p.files().device(p.files().openDevice(KfdProcess.PATH), KfdProcess.class);
    k.loadCodeObjects(List.of(k.properties(k.gpuIds().getFirst()).getGfxTargetVersion()));
    return k;
  }

  @AfterEach
  void tearDown() {
    exporterProcess.close();
    importerProcess.close();
    node.close();
  }

  private int gpu(int index) {
    return exporter.gpuIds().get(index);
  }

  /** Exports a VRAM buffer of GPU {@code owner} and imports it in the other process. */
  private int share(int owner, int on) {
    int handle = exporter.allocVram(gpu(owner), SHARED, PAGES * P, Bo.FLAG_CPU_VISIBLE);
    int fd = exporter.exportDmaBuf(handle);
    String path = exporterProcess.files().device(fd, DmaBufFile.class).path();
    int theirs = importerProcess.files().openDevice(path); // as pidfd_getfd would give it
    return importer.importDmaBuf(theirs, gpu(on), IMPORTED);
  }

  @Test
  void anImportOnAnXgmiPeerReadsAndWritesTheExportersMemory() {
    int imported = share(0, 1);
    exporter.cpuWriteLong(SHARED + P, 77);
    fill(importer, importerProcess, gpu(1), IMPORTED + 2 * P, 5);
    long[] got = new long[1];
    got[0] = exporter.cpuReadLong(SHARED + 2 * P);
    assertNotEquals(0, got[0], "the importer's kernel wrote the exporter's VRAM over XGMI");
    assertEquals(77, exporter.cpuReadLong(SHARED + P));
    Bo bo = importer.buffer(imported);
    assertTrue(bo.imported());
    assertEquals(gpu(0), bo.gpu().gpuId(), "the memory stays on the exporter's GPU");
  }

  @Test
  void anImportOnTheSameGpuSharesTheMemory() {
    share(2, 2);
    fill(importer, importerProcess, gpu(2), IMPORTED, 9);
    assertNotEquals(0, exporter.cpuReadLong(SHARED));
  }

  @Test
  void anImportFromAGpuWithoutALinkIsRefused() {
    int handle = exporter.allocVram(gpu(0), SHARED, PAGES * P, 0);
    int fd = exporter.exportDmaBuf(handle);
    String path = exporterProcess.files().device(fd, DmaBufFile.class).path();
    int theirs = importerProcess.files().openDevice(path);
    AccrException e = assertThrows(AccrException.class,
        () -> importer.importDmaBuf(theirs, gpu(2), IMPORTED));
    assertTrue(e.getMessage().contains("no XGMI or PCIe peer-to-peer link"), e.getMessage());
    assertThrows(AccrException.class, () -> importer.buffer(handle + 100));
  }

  @Test
  void theMemoryLivesWhileAnyProcessHoldsIt() {
    KfdDriver driver = KfdNodes.kfd(node);
    long before = driver.allocatedVramBytes();
    int imported = share(0, 1);
    long shared = driver.allocatedVramBytes() - before;
    assertTrue(shared >= PAGES * P, "one allocation for both: " + shared);
    exporter.cpuWriteLong(SHARED, 1234);
    exporter.freeMemory(exporter.buffer(1).handle());
    assertEquals(shared, driver.allocatedVramBytes() - before, "the importer still holds it");
    importer.freeMemory(imported);
    assertEquals(shared, driver.allocatedVramBytes() - before, "descriptors still hold it");
    exporterProcess.close();
    importerProcess.close();
    assertEquals(before, driver.allocatedVramBytes(), "freed with the last holder");
    assertEquals(0, driver.dmaBufCount());
  }

  @Test
  void writesThroughAnImportAreTrackedInTheExportersBuffer() {
    share(0, 1);
    KfdCriu.startDirtyTracking(exporter);
    KfdCriu.startDirtyTracking(importer);
    fill(importer, importerProcess, gpu(1), IMPORTED + 3 * P, 2);
    DirtyPages d = KfdCriu.dirtyPages(exporter, false);
    assertTrue(d.bos().stream().filter(b -> b.va() == SHARED).findFirst().orElseThrow()
        .dirty().contains(3), "the exporter saves the page the importer wrote");
    assertEquals(List.of(SHARED + 3 * P), KfdCriu.dirtyVramExtents(exporter, d).stream()
        .map(KfdCriu.VramExtent::va).toList());
    assertTrue(KfdCriu.dirtyVramExtents(importer, KfdCriu.dirtyPages(importer, false))
        .stream().noneMatch(e -> e.va() == IMPORTED), "an import saves no VRAM of its own");
    assertFalse(KfdCriu.vramExtents(importer).stream().anyMatch(e -> e.va() == IMPORTED));
  }

  @Test
  void aSharedBuffersContentsAreDigestedOnceWithItsExporter() throws Exception {
    share(0, 1);
    byte[] exporterBefore = digest(exporter);
    byte[] importerBefore = digest(importer);
    exporter.cpuWriteLong(SHARED + P, 99);
    assertFalse(java.util.Arrays.equals(exporterBefore, digest(exporter)));
    assertArrayEquals(importerBefore, digest(importer), "contents count with the exporter");
  }

  @Test
  void onlyVramBuffersCanBeExported() {
    int gtt = exporter.allocGtt(gpu(0), SHARED, P);
    assertThrows(AccrException.class, () -> exporter.exportDmaBuf(gtt));
    assertThrows(AccrException.class,
        () -> importerProcess.files().openDevice(DmaBufFile.PATH_PREFIX + 999));
  }

  private static byte[] digest(KfdProcess k) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    k.digest(sha);
    return sha.digest();
  }

  /** Runs the fill kernel on {@code gpuId} over one page at {@code va}. */
  private void fill(KfdProcess k, SimProcess p, int gpuId, long va, long seed) {
    k.allocGtt(gpuId, RINGS, 4 * P);
    int queue = k.createQueue(gpuId, QueueType.COMPUTE, 7, RINGS, 64);
    int event = k.createEvent();
    long kernarg = RINGS + 2 * P;
    p.memory().writeLong(kernarg, va);
    p.memory().writeLong(kernarg + 8, seed);
    Packets.write(p.memory(), RINGS, 64, 0, Packets.DISPATCH, WorkloadKernels.Fill.ID, 1,
        kernarg, event, 0);
    k.ringDoorbell(queue, 1);
    k.waitEvent(event, 1);
  }
}

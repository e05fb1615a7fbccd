package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.DmaBufFile;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared buffers through a dump and a restore of two processes: the importer records the
 * exporter and keeps its address; a dump without the exporter fails naming both; a restore
 * re-shares the buffer whichever process comes back first, and fails if the exporter never
 * does.
 */
class SharedBuffersTest {
  static final long SHARED = 0x10_1000_0000L;
  static final long IMPORTED = 0x30_0000_0000L;
  static final long SIZE = 4 * 4096;

  @TempDir Path tmp;
  Node node;
  KfdDriver driver;
  SimProcess a;
  SimProcess b;
  KfdProcess exporter;
  KfdProcess importer;

  @BeforeEach
  void setUp() {
    node = KfdNodes.node("a", "mi250x4");
    driver = KfdNodes.kfd(node);
    a = process(500);
    b = process(501);
    exporter = a.files().device(a.files().openDevice(KfdProcess.PATH), KfdProcess.class);
    importer = b.files().device(b.files().openDevice(KfdProcess.PATH), KfdProcess.class);
    int gpu0 = exporter.gpuIds().get(0);
    int handle = exporter.allocVram(gpu0, SHARED, SIZE, Bo.FLAG_CPU_VISIBLE);
    int fd = exporter.exportDmaBuf(handle);
    int theirs = b.files().openDevice(a.files().device(fd, DmaBufFile.class).path());
    importer.importDmaBuf(theirs, importer.gpuIds().get(1), IMPORTED);
    exporter.cpuWriteLong(SHARED + 8, 4711);
  }

  private SimProcess process(int pid) {
    return node.newProcess(pid, Scenarios.registry().workload("kfd-train"), List.of(), tmp, 0);
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
    node.close();
  }

  private static List<KfdBoEntry> bos(KfdProcess k) {
    return KfdCriu.checkpoint(k, KfdCriu.processInfo(k)).bos();
  }

  @Test
  void theImporterRecordsItsExporterAndTheLinkItCrossed() {
    KfdBoEntry imported = bos(importer).getFirst();
    KfdBoEntry exported = bos(exporter).getFirst();
    assertTrue(imported.getImported());
    assertEquals(exported.getDmabufId(), imported.getDmabufId());
    assertEquals(500, imported.getExporterPid());
    assertEquals(exported.getHandle(), imported.getExporterHandle());
    assertEquals(IMPORTED, imported.getGpuVa());
    assertTrue(imported.getOverXgmi(), "gpu 1 is gpu 0's XGMI peer on mi250x4");
    assertEquals(0, KfdCriu.vramInUse(importer), "the contents are saved with the exporter");
  }

  @Test
  void aDumpWithoutTheExporterFailsNamingBothProcesses() {
    SharedBuffersDumped alone = new SharedBuffersDumped();
    alone.process(501, bos(importer));
    AccrException e = assertThrows(AccrException.class, alone::check);
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().contains("process 501 imports dma-buf")
        && e.getMessage().contains("exported by process 500"), e.getMessage());
    SharedBuffersDumped both = new SharedBuffersDumped();
    both.process(501, bos(importer));
    both.process(500, bos(exporter));
    both.check();
  }

  @Test
  void aRestoreReSharesTheBufferWhoeverComesFirst() {
    for (boolean importerFirst : List.of(true, false)) {
      Restored r = restoreBoth(importerFirst);
      try {
        long value = r.exporter().cpuReadLong(SHARED + 8);
        r.exporter().cpuWriteLong(SHARED + 16, value + 1);
        assertEquals(4712, r.importer().cpuReadLong(IMPORTED + 16),
            "importer first: " + importerFirst);
        r.shared().checkResolved(600);
        r.shared().checkResolved(601);
      } finally {
        r.close();
      }
    }
  }

  @Test
  void aRestoreWhoseExporterNeverComesFails() {
    SharedBuffersRestored shared = new SharedBuffersRestored(driver);
    SimProcess c = process(601);
    try {
      KfdProcess k = driver.attach(c, identity(driver));
      List<KfdBoEntry> bos = bos(importer);
      KfdCriu.restore(k, KfdCriu.processInfo(importer), bos, List.of(), List.of(), List.of());
      shared.restored(k, bos);
      AccrException e = assertThrows(AccrException.class, () -> shared.checkResolved(601));
      assertTrue(e.getMessage().contains("exported by process 500"), e.getMessage());
      assertEquals(AccrException.CORRUPT, e.exitCode(), "the image lacks the exporter");
    } finally {
      KfdProcess k = driver.process(601);
      if (k != null) {
        k.close();
      }
      c.close();
      shared.discardUnused();
    }
    assertEquals(1, driver.dmaBufCount(), "only the original's buffer is left");
  }

  private record Restored(SimProcess a, SimProcess b, KfdProcess exporter, KfdProcess importer,
      SharedBuffersRestored shared) {
    void close() {
      importer.close();
      exporter.close();
      a.close();
      b.close();
    }
  }

  /** Restores copies of both processes (pids 600, 601) on the same node, in either order. */
  private Restored restoreBoth(boolean importerFirst) {
    SharedBuffersRestored shared = new SharedBuffersRestored(driver);
    List<KfdBoEntry> exported = bos(exporter);
    List<KfdBoEntry> imported = bos(importer);
    SimProcess ra = process(600);
    SimProcess rb = process(601);
    KfdProcess ke = driver.attach(ra, identity(driver));
    KfdProcess ki = driver.attach(rb, identity(driver));
    Runnable restoreExporter = () -> {
      KfdCriu.restore(ke, KfdCriu.processInfo(exporter), exported, List.of(), List.of(),
          List.of());
      ke.cpuWriteLong(SHARED + 8, exporter.cpuReadLong(SHARED + 8)); // the VRAM contents
      shared.restored(ke, exported);
    };
    Runnable restoreImporter = () -> {
      KfdCriu.restore(ki, KfdCriu.processInfo(importer), imported, List.of(), List.of(),
          List.of());
      shared.restored(ki, imported);
    };
    if (importerFirst) {
      restoreImporter.run();
      restoreExporter.run();
    } else {
      restoreExporter.run();
      restoreImporter.run();
    }
    return new Restored(ra, rb, ke, ki, shared);
  }

  private static Map<Integer, Gpu> identity(KfdDriver driver) {
    Map<Integer, Gpu> m = new LinkedHashMap<>();
    driver.gpus().forEach(g -> m.put(g.gpuId(), g));
    return m;
  }
}

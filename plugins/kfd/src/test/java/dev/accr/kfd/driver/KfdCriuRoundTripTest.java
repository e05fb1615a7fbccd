package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Vma;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.proto.KfdProcessEntry;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's CRIU operations without the plugin or the engine: PROCESS_INFO and CHECKPOINT
 * of a GPU process with dispatches in flight, then RESTORE, VRAM load and RESUME into a fresh
 * process on another node, give the same buffers, queues, events, SVM ranges and VRAM, and
 * the restored queues finish their work exactly as the original ones do.
 */
class KfdCriuRoundTripTest {
  @TempDir Path tmp;

  @Test
  void checkpointThenRestoreIntoAFreshProcessGivesTheSameDeviceState() throws Exception {
    List<String> args = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "6", "--seed", "5",
        "--gpu-us-per-wg", "50");
    try (Node a = KfdNodes.node("a", "mi100x2"); Node b = KfdNodes.node("b", "mi100x2")) {
      SimProcess p = a.create("kfd-train", args, tmp, 0);
      Scenarios.step(p, 3);
      Thread.sleep(30); // dispatches are now running, workgroup by workgroup
      KfdProcess source = KfdNodes.kfd(a).process(p.pid());

      KfdProcessEntry info = KfdCriu.processInfo(source);
      assertTrue(source.queueList().stream().allMatch(HwQueue::paused), "PROCESS_INFO pauses");
      KfdCriu.Checkpoint saved = KfdCriu.checkpoint(source, info);
      assertEquals(List.of(info.getNumBos(), info.getNumQueues(), info.getNumEvents(),
          info.getNumSvmRanges(), info.getNumDevices()), List.of(saved.bos().size(),
          saved.queues().size(), saved.events().size(), saved.svmRanges().size(),
          saved.devices().size()), "PROCESS_INFO counts what CHECKPOINT returns");
      assertTrue(saved.svmRanges().stream().anyMatch(r -> r.getResidencyList().stream()
          .anyMatch(run -> run.getLocation() != SvmRange.SYSTEM)), "SVM pages live in VRAM");
      assertTrue(saved.events().stream().anyMatch(e -> e.getSignalCount() > 0));
      assertTrue(saved.queues().stream().anyMatch(q -> q.getWriteIndex() > q.getReadIndex()),
          "work is in flight: " + saved.queues());
      Map<String, byte[]> vram = vram(KfdCriu.vramExtents(source));
      assertEquals(info.getVramBytes(), vram.values().stream().mapToLong(v -> v.length).sum());

      SimProcess fresh = b.newProcess(p.pid(), p.workload(), p.argv(), tmp, 0);
      copyHostMemory(p.memory(), fresh.memory()); // the core's part of a restore
      Map<Integer, Gpu> sameIds = new LinkedHashMap<>();
      for (var d : saved.devices()) {
        sameIds.put(d.getGpuId(), KfdNodes.kfd(b).gpu(d.getGpuId()));
      }
      KfdProcess restored = KfdNodes.kfd(b).attach(fresh, sameIds);
      try {
        assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
        KfdCriu.restore(restored, info, saved.bos(), saved.queues(), saved.events(),
            saved.svmRanges());
        for (var d : saved.devices()) {
          assertEquals(KfdNodes.kfd(a).gpu(d.getGpuId()).allocator().usedBytes(),
              KfdNodes.kfd(b).gpu(d.getGpuId()).allocator().usedBytes(), "RESTORE allocates"
              + " on each GPU the VRAM its buffers and SVM shadows hold on the source");
        }
        assertTrue(restored.queueList().stream().allMatch(HwQueue::paused),
            "RESTORE leaves the queues paused until RESUME");
        load(KfdCriu.vramExtents(restored), vram);

        KfdProcessEntry again = KfdCriu.processInfo(restored);
        KfdCriu.Checkpoint roundTrip = KfdCriu.checkpoint(restored, again);
        assertEquals(info, again);
        assertEquals(saved.devices(), roundTrip.devices());
        assertEquals(saved.bos(), roundTrip.bos());
        assertEquals(saved.queues(), roundTrip.queues());
        assertEquals(saved.events(), roundTrip.events());
        assertEquals(saved.svmRanges(), roundTrip.svmRanges());
        assertVramEquals(vram, vram(KfdCriu.vramExtents(restored)));

        KfdCriu.resume(source);
        KfdCriu.resume(restored);
        assertFalse(restored.queueList().stream().anyMatch(HwQueue::paused));
        drain(source);
        drain(restored);
        KfdCriu.Checkpoint sourceAfter = KfdCriu.checkpoint(source, KfdCriu.processInfo(source));
        KfdCriu.Checkpoint restoredAfter = KfdCriu.checkpoint(restored,
            KfdCriu.processInfo(restored));
        assertEquals(sourceAfter.events(), restoredAfter.events(), "the same events fired");
        assertEquals(sourceAfter.queues(), restoredAfter.queues());
        assertEquals(sourceAfter.svmRanges(), restoredAfter.svmRanges());
        assertVramEquals(vram(KfdCriu.vramExtents(source)),
            vram(KfdCriu.vramExtents(restored)));
        assertEquals(digest(source), digest(restored));
      } finally {
        restored.close();
        fresh.close();
      }
    }
  }

  /** The VRAM of every extent, keyed by GPU id, address and length. */
  private static Map<String, byte[]> vram(List<KfdCriu.VramExtent> extents) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (KfdCriu.VramExtent e : extents) {
      byte[] bytes = new byte[Math.toIntExact(e.length())];
      e.gpu().vram().copyOut(e.vramOffset(), MemorySegment.ofArray(bytes), 0, e.length());
      out.put(key(e), bytes);
    }
    return out;
  }

  private static void load(List<KfdCriu.VramExtent> extents, Map<String, byte[]> vram) {
    assertEquals(List.copyOf(vram.keySet()), extents.stream().map(KfdCriuRoundTripTest::key)
        .toList(), "the restored process has the same VRAM extents");
    for (KfdCriu.VramExtent e : extents) {
      e.gpu().vram().copyIn(MemorySegment.ofArray(vram.get(key(e))), 0, e.vramOffset(),
          e.length());
    }
  }

  private static String key(KfdCriu.VramExtent e) {
    return String.format("gpu %x va %x +%x", e.gpuId(), e.va(), e.length());
  }

  private static void assertVramEquals(Map<String, byte[]> expected, Map<String, byte[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    for (var e : expected.entrySet()) {
      assertArrayEquals(e.getValue(), actual.get(e.getKey()), e.getKey());
    }
  }

  /** Maps every mapping of {@code from} into {@code to} and copies the touched pages. */
  private static void copyHostMemory(AddressSpace from, AddressSpace to) {
    for (Vma v : from.vmas()) {
      to.map(v.start(), v.length(), v.prot(), v.kind(), v.name(), v.path(), v.offset());
      v.forEachTouchedPage((address, frame) -> to.writePages(address, frame, 0, 1));
    }
  }

  private static void drain(KfdProcess p) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!p.queueList().stream().allMatch(HwQueue::idle)) {
      for (HwQueue q : p.queueList()) {
        assertEquals(null, q.error(), "queue " + q.queueId() + " faulted");
      }
      assertTrue(System.nanoTime() < deadline, "queues did not drain: " + p.queueList().stream()
          .map(q -> q.queueId() + ":" + q.readIndex() + "/" + q.writeIndex()).toList());
      Thread.sleep(5);
    }
  }

  private static String digest(KfdProcess p) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    p.digest(sha);
    return HexFormat.of().formatHex(sha.digest());
  }
}

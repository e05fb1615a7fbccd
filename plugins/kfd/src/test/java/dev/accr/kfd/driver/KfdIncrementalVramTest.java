package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an incremental dump of VRAM relies on: a full copy of a running workload's VRAM, then
 * after each of several links (random numbers of steps, work in flight) only the extents
 * {@link KfdCriu#dirtyVramExtents} names copied over it, equals its VRAM page for page, while
 * buffers are freed and allocated, SVM pages migrate and kernels, SDMA and the CPU write. And
 * the links save much less than the whole.
 */
class KfdIncrementalVramTest {
  static final int LINKS = 4;

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("kfd-serve", "mi250x4", 0.25, List.of("--gpus", "2", "--steps", "40",
            "--weights-mib", "4", "--kv-mib", "6", "--requests", "6", "--gpu-us-per-wg", "10")),
        Arguments.of("kfd-train", "mi100x2", 0.35, List.of("--gpus", "2", "--vram-mib", "4",
            "--steps", "40", "--trainable-fraction", "0.1", "--gpu-us-per-wg", "10")),
        // the stencil rewrites a whole buffer each step: a link saves up to all of it
        Arguments.of("kfd-halo", "mi100x2", 1.0, List.of("--gpus", "2", "--vram-mib", "4",
            "--steps", "40", "--gpu-us-per-wg", "10")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void fullCopyPlusDirtyExtentsOfEachLinkEqualsTheVram(String workload, String topology,
      double maxShare, List<String> args) {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    try (Node a = KfdNodes.node("a", topology)) {
      SimProcess p = a.create(workload, args, tmp, 0);
      Scenarios.step(p, 2 + random.nextInt(4));
      KfdProcess kfd = KfdNodes.kfd(a).process(p.pid());
      KfdCriu.processInfo(kfd);
      KfdCriu.startDirtyTracking(kfd);
      Map<String, byte[]> copy = new HashMap<>();
      long whole = save(KfdCriu.vramExtents(kfd), copy);
      KfdCriu.resume(kfd);
      long saved = 0;
      for (int link = 0; link < LINKS; link++) {
        Scenarios.step(p, 1 + random.nextInt(5));
        KfdCriu.processInfo(kfd); // queues stop between workgroups, often mid-kernel
        DirtyPages d = KfdCriu.dirtyPages(kfd, true);
        saved += save(KfdCriu.dirtyVramExtents(kfd, d, random.nextInt(3)), copy);
        for (KfdCriu.VramExtent e : KfdCriu.vramExtents(kfd)) {
          byte[] now = bytes(e);
          for (long at = 0; at < e.length(); at += 4096) {
            String key = key(e.gpuId(), e.va() + at);
            byte[] page = java.util.Arrays.copyOfRange(now, (int) at, (int) at + 4096);
            assertTrue(copy.containsKey(key), key + " was never saved (seed " + seed + ")");
            assertArrayEquals(page, copy.get(key), key + " after link " + link + " (seed "
                + seed + ")");
          }
        }
        KfdCriu.resume(kfd);
      }
      assertTrue(saved > 0, "the links saved something");
      System.out.printf("%s: a link saved %.3f of the VRAM%n", workload,
          (double) saved / LINKS / whole);
      assertTrue(saved <= LINKS * whole * maxShare, workload + ": " + LINKS + " links saved "
          + saved + " bytes, the whole is " + whole);
      a.kill(p.pid());
      assertEquals(0, KfdNodes.kfd(a).allocatedVramBytes());
    }
  }

  /** Copies each extent's pages into {@code copy} by GPU and address; returns the bytes. */
  private static long save(List<KfdCriu.VramExtent> extents, Map<String, byte[]> copy) {
    long n = 0;
    for (KfdCriu.VramExtent e : extents) {
      byte[] bytes = bytes(e);
      for (long at = 0; at < e.length(); at += 4096) {
        copy.put(key(e.gpuId(), e.va() + at),
            java.util.Arrays.copyOfRange(bytes, (int) at, (int) at + 4096));
      }
      n += e.length();
    }
    return n;
  }

  private static byte[] bytes(KfdCriu.VramExtent e) {
    byte[] bytes = new byte[Math.toIntExact(e.length())];
    e.gpu().vram().copyOut(e.vramOffset(), MemorySegment.ofArray(bytes), 0, e.length());
    return bytes;
  }

  private static String key(int gpu, long va) {
    return gpu + "@" + Long.toHexString(va);
  }
}

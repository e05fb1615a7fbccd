package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.MappingPolicy;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.RestoreOptions;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.DirtyPages;
import dev.accr.kfd.driver.KfdCriu;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kfd-serve and kfd-train with a trainable fraction: dumped at a random step (with the step's
 * kernel in flight), restored on the same preset or another, and continued, they end with the
 * digest of an uninterrupted run; and kfd-serve writes a small share of its device memory per
 * step, never its weights, while its KV segments come and go.
 */
class KfdServeTest {
  static final int STEPS = 12;

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    List<String> serve = List.of("--gpus", "2", "--weights-mib", "2", "--kv-mib", "4",
        "--requests", "4", "--steps", "" + STEPS, "--seed", "7", "--gpu-us-per-wg", "20");
    List<String> train = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "" + STEPS,
        "--seed", "3", "--trainable-fraction", "0.25", "--gpu-us-per-wg", "5");
    return Stream.of(
        Arguments.of("kfd-serve", serve, "mi250x4", "mi250x4"),
        Arguments.of("kfd-serve", serve, "mi250x4", "mi300x8"),
        Arguments.of("kfd-train", train, "mi100x2", "mi100x2-renumbered"));
  }

  @ParameterizedTest(name = "{0} {2} -> {3}")
  @MethodSource("cases")
  void dumpedAtARandomStepAndRestoredEndsWithTheUninterruptedDigest(String workload,
      List<String> args, String from, String to) throws Exception {
    long seed = new Random().nextLong();
    int dumpAfter = new Random(seed).nextInt(STEPS + 1);
    String expected;
    try (Node a = KfdNodes.node("a", from)) {
      expected = Scenarios.uninterrupted(a, workload, args, tmp);
    }
    try (Node a = KfdNodes.node("a", from); Node b = KfdNodes.node("b", to)) {
      SimProcess p = a.create(workload, args, tmp, 0);
      Scenarios.step(p, dumpAfter);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(2));
      SimProcess restored = Scenarios.restore(b, dir, RestoreOptions.defaults()
          .withMapping(MappingPolicy.of(Map.of(), Set.of("caches")))); // mi250 -> mi300
      assertEquals(expected, Scenarios.finish(b, restored), "dumped after " + dumpAfter
          + " steps (random seed " + seed + ")");
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
    }
  }

  @Test
  void aTrainableFractionChangesTheResult() {
    List<String> args = List.of("--vram-mib", "2", "--steps", "2", "--seed", "3");
    try (Node a = KfdNodes.node("a", "mi100x1")) {
      String all = Scenarios.uninterrupted(a, "kfd-train", args, tmp);
      assertEquals(all, Scenarios.uninterrupted(a, "kfd-train", plus(args, "1"), tmp));
      assertNotEquals(all, Scenarios.uninterrupted(a, "kfd-train", plus(args, "0.5"), tmp));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("badOptions")
  void badOptionsAreUsageErrorsThatLeaveNothingBehind(String workload, List<String> args) {
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      AccrException e = assertThrows(AccrException.class, () -> a.create(workload, args, tmp,
          0));
      assertEquals(2, e.exitCode(), e.getMessage());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertEquals(0, KfdNodes.kfd(a).processCount());
      assertEquals(0, KfdNodes.kfd(a).allocatedVramBytes());
    }
  }

  @Test
  void aRestoredServerWithImpossibleSchedulerStateIsACorruptImage() throws Exception {
    try (Node a = KfdNodes.node("a", "mi100x1")) {
      SimProcess p = a.create("kfd-serve", List.of("--steps", "8"), tmp, 0);
      Scenarios.step(p, 4);
      checkedFine(p); // as it is: fine
      long slot0 = 0x3000_0000L; // the first request slot of GPU 0's scheduler
      assertEquals(2, p.memory().readLong(slot0), "slot 0 serves a request");
      for (long[] edit : new long[][] {{7, 99}, {16, 1 << 20}, {0, 5}}) { // blocks, block, state
        long was = p.memory().readLong(slot0 + 8 * edit[0]);
        long state = p.memory().readLong(slot0);
        p.memory().writeLong(slot0, 2); // a decoding request
        p.memory().writeLong(slot0 + 8 * edit[0], edit[1]);
        AccrException e = assertThrows(AccrException.class, () -> p.workload().checkRestored(p));
        assertEquals(3, e.exitCode(), e.getMessage());
        p.memory().writeLong(slot0 + 8 * edit[0], was);
        p.memory().writeLong(slot0, state);
      }
      a.kill(p.pid());
    }
  }

  /**
   * Checks the running {@code p} as a restore would until it passes (10 s at most): right
   * after a step its GPUs' threads may not have queued the last request's signal yet.
   */
  private static void checkedFine(SimProcess p) throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        p.workload().checkRestored(p);
        return;
      } catch (AccrException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(10);
      }
    }
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
        Arguments.of("kfd-train", List.of("--trainable-fraction", "0")),
        Arguments.of("kfd-train", List.of("--trainable-fraction", "1.5")),
        Arguments.of("kfd-train", List.of("--trainable-fraction", "NaN")),
        Arguments.of("kfd-train", List.of("--trainable-fraction", "half")),
        Arguments.of("kfd-serve", List.of("--gpus", "3")),
        Arguments.of("kfd-serve", List.of("--requests", "0")),
        Arguments.of("kfd-serve", List.of("--kv-mib", "1")),
        Arguments.of("kfd-serve", List.of("--weights-mib", "x")),
        Arguments.of("kfd-serve", List.of("--vram-mib", "4")));
  }

  private static List<String> plus(List<String> args, String fraction) {
    return Stream.concat(args.stream(), Stream.of("--trainable-fraction", fraction)).toList();
  }

  @Test
  void servingWritesASmallShareOfDeviceMemoryPerStepAndNeverTheWeights() {
    try (Node a = KfdNodes.node("a", "mi100x1")) {
      SimProcess p = a.create("kfd-serve", List.of("--steps", "40"), tmp, 0);
      Scenarios.step(p, 10); // a full house of requests
      KfdProcess kfd = KfdNodes.kfd(a).process(p.pid());
      KfdCriu.processInfo(kfd);
      KfdCriu.startDirtyTracking(kfd);
      KfdCriu.resume(kfd);
      long written = 0;
      long total = 0;
      Set<Integer> freed = new HashSet<>();
      boolean created = false;
      for (int step = 0; step < 20; step++) {
        Scenarios.step(p, 1);
        KfdCriu.processInfo(kfd);
        DirtyPages d = KfdCriu.dirtyPages(kfd, true);
        KfdCriu.resume(kfd);
        freed.addAll(d.freedHandles());
        for (DirtyPages.BoPages b : d.bos()) {
          if (b.domain() == BoDomain.VRAM) {
            total += b.size() / 4096;
            written += b.dirty().count();
            created |= b.created();
            if (b.va() >= 0x10_1000_0000L && b.va() < 0x10_9000_0000L) {
              assertEquals(0, b.dirty().count(), "weights are only read: " + b);
            }
          }
        }
      }
      double share = (double) written / total;
      System.out.printf("kfd-serve: %.4f of VRAM pages written per step%n", share);
      assertTrue(share > 0.002 && share < 0.06, "per step, " + share + " of VRAM is written");
      assertTrue(created && !freed.isEmpty(), "KV segments are freed and allocated again");
      Scenarios.finish(a, p);
    }
  }
}

package dev.accr.kfd.plugin;

import static dev.accr.kfd.plugin.StagedRestores.inline;
import static dev.accr.kfd.plugin.StagedRestores.kfdBytesRead;
import static dev.accr.kfd.plugin.StagedRestores.restoreStaged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * VRAM of pre-copy rounds loaded on the target ahead of the stop ({@link StagedVram}): the
 * restore takes the staged blocks as the buffers' VRAM and reads only the last link's, and the
 * process ends with the digest of an uninterrupted run, while buffers are freed and allocated
 * between rounds (kfd-serve's KV segments), and with SVM pages that live in VRAM (kfd-train's
 * momentum; pages that move between rounds: {@link StagedSvmTest}).
 */
class StagedVramTest {
  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("kfd-serve", List.of("--gpus", "2", "--weights-mib", "4", "--kv-mib", "6",
            "--requests", "6", "--steps", "20", "--seed", "4", "--gpu-us-per-wg", "1")),
        Arguments.of("kfd-train", List.of("--gpus", "2", "--vram-mib", "2", "--steps", "16",
            "--seed", "4", "--gpu-us-per-wg", "1")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void stagedRoundsGiveTheDigestOfAnUninterruptedRun(String workload, List<String> args)
      throws Exception {
    String expected;
    try (Node u = KfdNodes.node("u", "mi250x4")) {
      expected = Scenarios.uninterrupted(u, workload, args, tmp);
    }
    List<Path> rounds = new ArrayList<>();
    Path last = tmp.resolve("final");
    try (Node a = KfdNodes.node("a", "mi250x4")) {
      SimProcess p = a.create(workload, args, tmp, 0);
      for (int i = 0; i < 3; i++) {
        Scenarios.step(p, 2);
        Path dir = tmp.resolve("r" + i);
        new Dumper(a, Scenarios.plugins(a)).withParent(i == 0 ? null : rounds.getLast(),
            UnaryOperator.identity()).preDump(p.pid(), dir, DumpOptions.defaults()
                .withThreads(2), ProgressListener.NONE);
        rounds.add(dir);
      }
      Scenarios.step(p, 1);
      new Dumper(a, Scenarios.plugins(a)).withParent(rounds.getLast(), UnaryOperator.identity())
          .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);
    }
    long fromImages;
    try (Node c = KfdNodes.node("c", "mi250x4")) {
      Restorer.Result r = new Restorer(c, Scenarios.plugins(c)).restore(last, inline(),
          ProgressListener.NONE);
      fromImages = kfdBytesRead(r);
      assertEquals(expected, Scenarios.finish(c, r.process()), "restored from the images");
    }
    try (Node b = KfdNodes.node("b", "mi250x4")) {
      Restorer.Result r = restoreStaged(b, rounds, last);
      long staged = kfdBytesRead(r);
      // kfd-train's rounds hold what its GPU work (not waited for) wrote by then: the last
      // link may hold most of it. Without the stage every link is read.
      long most = workload.equals("kfd-serve") ? fromImages / 2 : fromImages - 1;
      assertTrue(staged <= most, "VRAM read from the images: " + staged + " of " + fromImages
          + " bytes");
      assertEquals(expected, Scenarios.finish(b, r.process()), "restored from the stage");
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "every VRAM block freed");
    }
  }
}

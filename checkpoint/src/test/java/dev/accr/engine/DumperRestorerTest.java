package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DumperRestorerTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "dump after {0} of 40 steps, {1}, {2} threads")
  @CsvSource({
      "0, none, 1", "1, zstd, 2", "17, none, 2", "17, zstd:3, 3", "39, none, 2", "40, zstd, 2"})
  void restoredRunEndsWithTheDigestOfAnUninterruptedRun(int dumpAt, String compress, int threads)
      throws Exception {
    List<String> args = List.of("--mem-mib", "8", "--steps", "40", "--seed", "7",
        "--pages-per-step", "24");
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    String expected = Scenarios.uninterrupted(a, "counter",
        withOut(args, tmp.resolve("plain.out")), tmp);

    SimProcess p = a.create("counter", withOut(args, tmp.resolve("cr.out")), tmp, 0);
    Scenarios.step(p, dumpAt);
    Path dir = tmp.resolve("img");
    Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(threads)
        .withCompression(Compression.parse(compress)).withChunkPages(16));
    assertFalse(a.hasPid(p.pid()), "a dump without --leave-running kills the process");
    assertEquals(0, a.memory().residentPages(), "killed process frees its pages");

    SimProcess restored = Scenarios.restore(b, dir);
    assertEquals(p.pid(), restored.pid(), "restore keeps the pid");
    assertEquals(expected, Scenarios.finish(b, restored));
    assertEquals(Files.readString(tmp.resolve("plain.out")), Files.readString(tmp.resolve("cr.out")));
    assertTrue(Files.readString(tmp.resolve("cr.out")).lines().count() == 40);
  }

  private static List<String> withOut(List<String> args, Path out) {
    return java.util.stream.Stream.concat(args.stream(), java.util.stream.Stream.of("--out",
        out.toString())).toList();
  }
}

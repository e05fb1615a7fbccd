package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.accr.api.AccrException;
import java.nio.file.FileSystem;
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

  @Test
  void aDumpThatFailsAfterFreezingThawsTheProcessAndLeavesNoImageSet() throws Exception {
    List<String> args = List.of("--mem-mib", "16", "--steps", "30", "--seed", "3",
        "--pages-per-step", "64");
    Node a = Scenarios.node("a");
    String expected = Scenarios.uninterrupted(a, "counter",
        withOut(args, tmp.resolve("plain.out")), tmp);
    SimProcess p = a.create("counter", withOut(args, tmp.resolve("cr.out")), tmp, 0);
    Scenarios.step(p, 20);
    long resident = a.memory().residentPages();

    // A file system that fills up while the pages are being written.
    try (FileSystem small = Jimfs.newFileSystem(Configuration.unix().toBuilder()
        .setMaxSize(1 << 20).setBlockSize(4096).build())) {
      Path target = Files.createDirectory(small.getPath("/dumps")).resolve("images");
      AccrException e = assertThrows(AccrException.class, () ->
          Scenarios.dump(a, p, target, DumpOptions.defaults().withThreads(2)));
      assertEquals(AccrException.FAILED, e.exitCode());
      assertFalse(Files.exists(target));
      try (var left = Files.list(target.getParent())) {
        assertEquals(List.of(), left.toList(), "the partial directory is removed");
      }
    }
    assertEquals(SimProcess.State.NEW, p.state(), "thawed as it was");
    assertEquals(resident, a.memory().residentPages());
    assertEquals(expected, Scenarios.finish(a, p));
  }

  @Test
  void aDumpIntoANonEmptyDirectoryFailsBeforeFreezing() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", List.of("--mem-mib", "1", "--steps", "5",
        "--out", tmp.resolve("x.out").toString()), tmp, 0);
    Path target = Files.createDirectories(tmp.resolve("earlier"));
    Files.writeString(target.resolve("inventory.img"), "an earlier set");
    AccrException e = assertThrows(AccrException.class,
        () -> Scenarios.dump(a, p, target, DumpOptions.defaults()));
    assertTrue(e.getMessage().contains("not an empty directory"), e.getMessage());
    assertEquals("an earlier set", Files.readString(target.resolve("inventory.img")));
    assertTrue(a.hasPid(p.pid()));
  }

  @Test
  void aTouchedPageOfZerosIsNotStoredAndNeverTouchedPagesCostNothing() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", List.of("--mem-mib", "1024", "--steps", "0",
        "--out", tmp.resolve("z.out").toString()), tmp, 0);
    p.memory().pageForWrite(0x1000_0000L);
    p.memory().pageForWrite(0x1000_0000L + (512L << 20)).set(
        java.lang.foreign.ValueLayout.JAVA_LONG, 8, 42L);
    assertEquals(2, p.memory().residentPages(), "a 1 GiB mapping with two touched pages");
    Path dir = tmp.resolve("sparse");
    Scenarios.dump(a, p, dir, DumpOptions.defaults().withLeaveRunning(true));
    ImageSet set = ImageSet.read(dir);
    assertEquals(1, set.stats().getPagesSkippedZero());
    assertEquals(1, set.stats().getPagesWritten());
  }

  private static List<String> withOut(List<String> args, Path out) {
    return java.util.stream.Stream.concat(args.stream(), java.util.stream.Stream.of("--out",
        out.toString())).toList();
  }
}

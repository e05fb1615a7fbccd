package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.image.PartialSets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr gc DIR}: lists and removes what dead dumps left, and nothing else. */
class GcCommandTest {
  @TempDir Path dir;

  private Path partial(String name, long pid, long start) throws Exception {
    Path p = Files.createDirectory(dir.resolve(name));
    Files.writeString(p.resolve(PartialSets.MARKER), "# accr: image set being written\npid="
        + pid + "\nstart=" + start + "\nhost="
        + Files.readString(Path.of("/proc/sys/kernel/hostname")).strip() + "\n");
    Files.write(p.resolve("core-1000.img"), new byte[100]);
    return p;
  }

  private List<String> names() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void listsAndRemovesTheLeftoversOfDeadDumpsOnly() throws Exception {
    Process done = new ProcessBuilder("true").start();
    long start = done.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    done.waitFor();
    Path dead = partial(".set.partial-00000000000000a1", done.pid(), start);
    ProcessHandle self = ProcessHandle.current();
    Path live = partial(".other.partial-00000000000000b2", self.pid(),
        self.info().startInstant().orElseThrow().toEpochMilli());
    Files.createDirectory(dir.resolve(".unmarked.partial-00000000000000c3"));
    Files.createDirectory(dir.resolve("set"));
    List<String> before = names();

    CliRun dry = CliRun.accr("gc", "--dry-run", dir.toString());
    assertEquals(0, dry.code(), dry.err());
    assertEquals(List.of("kept " + live + ": pid " + self.pid() + " on "
        + hostName() + " is still writing it", "would remove " + dead + " (left by pid "
        + done.pid() + " on " + hostName() + ")", "would remove 1 leftover(s) in " + dir),
        dry.out().lines().toList());
    assertEquals(before, names(), "a dry run removes nothing");

    CliRun gc = CliRun.accr("gc", dir.toString());
    assertEquals(0, gc.code(), gc.err());
    assertTrue(gc.out().contains("removed " + dead + " (left by pid " + done.pid()), gc.out());
    assertTrue(gc.out().endsWith("removed 1 leftover(s) in " + dir + "\n"), gc.out());
    assertEquals(List.of(".other.partial-00000000000000b2", ".unmarked.partial-00000000000000c3",
        "set"), names());

    assertTrue(CliRun.accr("gc", dir.toString()).out().contains("removed 0 leftover(s)"));
  }

  @Test
  void namesAreShownEscapedOnOneLine() throws Exception {
    Process done = new ProcessBuilder("true").start();
    done.waitFor();
    Path dead = partial(".\u001b[2Jset.partial-00000000000000a1", done.pid(), 0);
    CliRun gc = CliRun.accr("gc", "--dry-run", dir.toString());
    assertEquals(0, gc.code(), gc.err());
    assertTrue(gc.out().lines().toList().getFirst().startsWith("would remove " + dir
        + "/.\\x1b[2Jset.partial-00000000000000a1 (left by pid "), gc.out());
    assertTrue(gc.out().chars().noneMatch(c -> c == 0x1b), gc.out());
    assertTrue(Files.exists(dead));
  }

  @Test
  void aMarkedDirectoryOthersMayWriteIsNotTouched() throws Exception {
    Process done = new ProcessBuilder("true").start();
    done.waitFor();
    Path shared = partial(".set.partial-00000000000000a1", done.pid(), 0);
    Files.setPosixFilePermissions(shared,
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    CliRun gc = CliRun.accr("gc", dir.toString());
    assertEquals(0, gc.code(), gc.err());
    assertEquals("removed 0 leftover(s) in " + dir, gc.out().strip());
    assertTrue(Files.exists(shared.resolve("core-1000.img")));
  }

  private static String hostName() throws Exception {
    return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
  }

  @Test
  void aDirectoryThatIsNotThereIsAUsageError() {
    CliRun r = CliRun.accr("gc", dir.resolve("none").toString());
    assertEquals(AccrException.USAGE, r.code());
    assertEquals("accr: gc: " + dir.resolve("none") + " is not a directory", r.err().strip());
  }
}

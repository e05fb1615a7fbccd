package dev.accr.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.proto.InventoryEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What dumps that died leave behind is removed, and nothing else: not a directory of another
 * name or kind, not one without accr's marker, not one whose writer still runs.
 */
class PartialSetsTest {
  @TempDir Path parent;

  private static String host() throws Exception {
    return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
  }

  /** A directory as a writer with this pid, start time and host would have left it. */
  private Path partial(String name, long pid, long startMillis, String host) throws Exception {
    Path dir = Files.createDirectory(parent.resolve(name));
    Files.writeString(dir.resolve(PartialSets.MARKER), "# accr: image set being written\npid="
        + pid + "\nstart=" + startMillis + "\nhost=" + host + "\n");
    Files.write(dir.resolve("pages-1.img"), new byte[1000]);
    return dir;
  }

  /** A process that has ended: its pid and start time. */
  private static long[] deadProcess() throws Exception {
    Process p = new ProcessBuilder("true").start();
    long start = p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    p.waitFor();
    return new long[] {p.pid(), start};
  }

  private static long selfStart() {
    return ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
  }

  private List<String> names() throws Exception {
    try (Stream<Path> s = Files.list(parent)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theNextDumpIntoTheParentRemovesTheLeftoversOfDeadWritersOnly() throws Exception {
    long[] dead = deadProcess();
    long self = ProcessHandle.current().pid();
    partial(".old.partial-00000000000000aa", dead[0], dead[1], host());
    // Our own pid, but another start time: a writer that died and whose pid came back.
    partial(".reused.partial-00000000000000bb", self, selfStart() - 60_000, host());
    Path live = partial(".live.partial-00000000000000cc", self, selfStart(), host());
    Path remote = partial(".remote.partial-00000000000000dd", dead[0], dead[1], "elsewhere");

    try (ImageSetWriter set = ImageSetWriter.create(parent.resolve("new"))) {
      assertTrue(Files.isRegularFile(set.directory().resolve(PartialSets.MARKER)),
          "the marker is written first");
      assertEquals(Stream.of(live, remote, set.directory()).sorted().toList(),
          PartialSets.find(parent).stream().map(PartialSets.Leftover::dir).sorted().toList());
      set.commit(InventoryEntry.newBuilder());
    }
    assertEquals(List.of(".live.partial-00000000000000cc", ".remote.partial-00000000000000dd",
        "new"), names());
    assertFalse(Files.exists(parent.resolve("new").resolve(PartialSets.MARKER)),
        "a committed set carries no marker");
    assertEquals(List.of("inventory.img"), fileNames(parent.resolve("new")));
  }

  private static List<String> fileNames(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void directoriesThatAreNotAccrsAreNeverRemoved() throws Exception {
    long[] dead = deadProcess();
    String marker = "# accr: image set being written\npid=" + dead[0] + "\nstart=" + dead[1]
        + "\nhost=" + host() + "\n";
    // The right name without a marker (or with one of other content).
    Files.createDirectory(parent.resolve(".a.partial-0000000000000001"));
    Path foreign = Files.createDirectory(parent.resolve(".b.partial-0000000000000002"));
    Files.writeString(foreign.resolve(PartialSets.MARKER), "pid=" + dead[0] + "\n");
    // A marker in directories whose names are not accr's.
    for (String name : List.of(".c.partial-xyz", "d.partial-0000000000000003",
        ".e.partial-00000000000000004", ".partial-0000000000000005", "f")) {
      Files.writeString(Files.createDirectory(parent.resolve(name)).resolve(PartialSets.MARKER),
          marker);
    }
    // The right name for a file, and for a link to a marked directory.
    Files.writeString(parent.resolve(".g.partial-0000000000000006"), marker);
    Path elsewhere = Files.createDirectory(parent.resolve("elsewhere"));
    Files.writeString(elsewhere.resolve(PartialSets.MARKER), marker);
    Files.createSymbolicLink(parent.resolve(".h.partial-0000000000000007"), elsewhere);
    List<String> before = names();

    assertEquals(List.of(), PartialSets.find(parent));
    assertEquals(List.of(), PartialSets.removeDead(parent));
    assertEquals(before, names());
    assertTrue(Files.exists(elsewhere.resolve(PartialSets.MARKER)));
  }

  @Test
  void aMarkedDirectoryOthersMayWriteOrOfAnotherUserIsNeverRemoved() throws Exception {
    long[] dead = deadProcess();
    Path shared = partial(".shared.partial-0000000000000001", dead[0], dead[1], host());
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path theirs = partial(".theirs.partial-0000000000000002", dead[0], dead[1], host());
    boolean chowned = true;
    try {
      Files.setAttribute(theirs, "unix:uid", 65534);
    } catch (java.nio.file.FileSystemException notPermitted) {
      chowned = false; // only root can give a directory away; then it is ours, and goes
    }
    Path ours = partial(".ours.partial-0000000000000003", dead[0], dead[1], host());
    List<Path> expected = chowned ? List.of(ours) : List.of(ours, theirs);
    assertEquals(expected.stream().sorted().toList(),
        PartialSets.find(parent).stream().map(PartialSets.Leftover::dir).sorted().toList());
    assertEquals(expected.size(), PartialSets.removeDead(parent).size());
    assertTrue(Files.exists(shared.resolve("pages-1.img")));
    assertEquals(chowned, Files.exists(theirs.resolve("pages-1.img")));
    // Found while private, opened to others before removal: kept.
    Path opened = partial(".opened.partial-0000000000000004", dead[0], dead[1], host());
    PartialSets.Leftover found = PartialSets.find(parent).getFirst();
    assertEquals(opened, found.dir());
    Files.setPosixFilePermissions(opened, PosixFilePermissions.fromString("rwxrwx---"));
    assertFalse(PartialSets.remove(found));
    assertTrue(Files.exists(opened.resolve("pages-1.img")));
  }

  @Test
  void cleanupBelowARootFindsLeftoversAtAnyDepthAndKeepsSetsLiveWritersAndLinks()
      throws Exception {
    long[] dead = deadProcess();
    long self = ProcessHandle.current().pid();
    Files.createDirectories(parent.resolve("a/b/c"));
    partial("a/b/c/.deep.partial-00000000000000aa", dead[0], dead[1], host());
    partial(".top.partial-00000000000000ab", dead[0], dead[1], host());
    partial("a/.live.partial-00000000000000cc", self, selfStart(), host());
    try (ImageSetWriter set = ImageSetWriter.create(parent.resolve("a/b/set"))) {
      set.commit(InventoryEntry.newBuilder());
    }
    // A leftover inside a committed set is not accr's to judge: sets are not descended into.
    partial("a/b/set/.inner.partial-00000000000000dd", dead[0], dead[1], host());
    Path elsewhere = Files.createTempDirectory("accr-elsewhere");
    try {
      Path far = Files.createDirectory(elsewhere.resolve(".far.partial-00000000000000ee"));
      Files.writeString(far.resolve(PartialSets.MARKER), "# accr: image set being written\npid="
          + dead[0] + "\nstart=" + dead[1] + "\nhost=" + host() + "\n");
      Files.createSymbolicLink(parent.resolve("link"), elsewhere);

      List<Path> removed = PartialSets.removeDeadBelow(parent, 32).stream()
          .map(PartialSets.Leftover::dir).sorted().toList();

      assertEquals(List.of(parent.resolve(".top.partial-00000000000000ab"),
          parent.resolve("a/b/c/.deep.partial-00000000000000aa")), removed);
      assertTrue(Files.isDirectory(parent.resolve("a/.live.partial-00000000000000cc")));
      assertTrue(Files.isRegularFile(parent.resolve("a/b/set/inventory.img")));
      assertTrue(Files.isDirectory(parent.resolve("a/b/set/.inner.partial-00000000000000dd")));
      assertTrue(Files.isDirectory(far), "a link out of the root is not followed");
    } finally {
      DirectoryTrees.delete(elsewhere);
    }
  }

  @Test
  void aMissingParentHasNoLeftovers() throws Exception {
    assertEquals(List.of(), PartialSets.find(parent.resolve("none")));
    assertEquals(List.of(), PartialSets.removeDead(parent.resolve("none")));
  }

  @Test
  void partialNamesHaveOneExactForm() {
    assertTrue(PartialSets.isPartialName(PartialSets.newName("set")));
    assertTrue(PartialSets.isPartialName(".my.set.partial-0123456789abcdef"));
    assertFalse(PartialSets.isPartialName(".set.partial-0123456789ABCDEF"));
    assertFalse(PartialSets.isPartialName("set.partial-0123456789abcdef"));
    assertFalse(PartialSets.isPartialName(".set.partial-0123456789abcdef0"));
  }
}

package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where paths named by a remote client resolve, and which ones are refused. */
class ImageRootTest {
  @TempDir Path tmp;
  private Path rootDir;
  private ImageRoot root;
  private Path outside;

  @BeforeEach
  void setUp() throws Exception {
    rootDir = tmp.resolve("images").resolve("n1");
    root = ImageRoot.open(rootDir);
    rootDir = rootDir.toRealPath();
    outside = Files.createDirectory(tmp.resolve("elsewhere")).toRealPath();
    Files.createDirectories(rootDir.resolve("sets/a"));
  }

  private AccrException refused(String path) {
    AccrException e = assertThrows(AccrException.class, () -> root.resolve(path));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("image root"), e.getMessage());
    assertTrue(e.getMessage().contains(path), e.getMessage());
    assertTrue(!e.getMessage().replace(path, "").contains(rootDir.toString()),
        "no absolute path of the node but the one asked for: " + e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    return e;
  }

  @Test
  void theRootIsCreatedOwnerOnly() throws Exception {
    assertTrue(Files.isDirectory(rootDir));
    assertEquals("rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(rootDir)));
    assertEquals(rootDir, root.path());
  }

  @Test
  void anExistingRootOthersMayWriteOrOfAnotherUserIsRefused() throws Exception {
    Path shared = Files.createDirectory(tmp.resolve("shared"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    AccrException e = assertThrows(AccrException.class, () -> ImageRoot.open(shared));
    assertEquals(AccrException.FAILED, e.exitCode());
    assertEquals("image root " + shared + " may be written by others (rwxrwxrwx): chmod go-w "
        + shared, e.getMessage());
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-x---"));
    assertEquals(shared.toRealPath(), ImageRoot.open(shared).path());
    try {
      Files.setAttribute(shared, "unix:uid", 65534);
    } catch (java.nio.file.FileSystemException notPermitted) {
      return; // only root can give a directory away
    }
    AccrException other = assertThrows(AccrException.class, () -> ImageRoot.open(shared));
    assertEquals(AccrException.FAILED, other.exitCode());
    assertEquals("image root " + shared + " belongs to another user (uid 65534)",
        other.getMessage());
  }

  @Test
  void aRelativePathIsTakenFromTheRoot() {
    assertEquals(rootDir.resolve("sets/a"), root.resolve("sets/a"));
    assertEquals("sets/a", root.show(root.resolve("sets/a")));
  }

  @Test
  void anAbsolutePathInsideIsKept() {
    assertEquals(rootDir.resolve("sets/a"), root.resolve(rootDir.resolve("sets/a").toString()));
  }

  @Test
  void anAbsolutePathOutsideIsRefused() {
    refused(outside.resolve("set").toString());
    refused("/etc/passwd");
  }

  @Test
  void dotDotLeavingTheRootIsRefused() {
    refused("../n2/set");
    refused("sets/../../../elsewhere");
    refused(rootDir + "/sets/../../n2");
  }

  @Test
  void dotDotStayingInsideIsAllowed() {
    assertEquals(rootDir.resolve("b"), root.resolve("sets/a/../../b"));
    assertEquals(rootDir.resolve("sets/c"), root.resolve(rootDir + "/sets/a/../c"));
  }

  @Test
  void aSymlinkLeavingTheRootIsRefused() throws Exception {
    Files.createSymbolicLink(rootDir.resolve("out"), outside);
    AccrException e = refused("out/set");
    assertTrue(e.getMessage().endsWith("(out is a link out of it)"), e.getMessage());
    assertTrue(!e.getMessage().contains(outside.toString()), e.getMessage());
    refused("out"); // the final component itself
    Files.createSymbolicLink(rootDir.resolve("sets/up"), Path.of("../.."));
    refused("sets/up/x");
  }

  @Test
  void aDanglingSymlinkIsRefused() throws Exception {
    Files.createSymbolicLink(rootDir.resolve("dangling"), outside.resolve("missing"));
    refused("dangling");
    refused("dangling/set");
  }

  @Test
  void aSymlinkStayingInsideResolvesToItsTarget() throws Exception {
    Files.createSymbolicLink(rootDir.resolve("latest"), Path.of("sets/a"));
    assertEquals(rootDir.resolve("sets/a/x"), root.resolve("latest/x"));
    assertEquals(rootDir.resolve("sets/a"), root.resolve("latest"));
  }

  @Test
  void missingIntermediateDirectoriesAreResolvedBelowTheDeepestExistingOne() {
    assertEquals(rootDir.resolve("new/deeper/set"), root.resolve("new/deeper/set"));
    assertEquals(rootDir.resolve("sets/a/x/y"), root.resolve("sets/a/x/y"));
  }

  @Test
  void theRootItselfIsInside() {
    assertEquals(rootDir, root.resolve(""));
    assertEquals(rootDir, root.resolve("."));
    assertEquals(rootDir, root.resolve(rootDir.toString()));
    assertEquals(".", root.show(rootDir));
  }

  @Test
  void theRootNamedThroughASymlinkIsTheRoot() throws Exception {
    Path alias = Files.createSymbolicLink(tmp.resolve("alias"), rootDir);
    ImageRoot viaAlias = ImageRoot.open(alias);
    assertEquals(rootDir, viaAlias.path());
    assertEquals(rootDir.resolve("sets/a"), viaAlias.resolve(alias + "/sets/a"));
  }

  @Test
  void aRelativePathFromABaseInsideStaysInside() {
    Path base = root.resolve("sets/a");
    assertEquals(base.resolve("c.out"), root.resolve(base, "c.out"));
    assertEquals(rootDir.resolve("c.out"), root.resolve(base, "../../c.out"));
    assertThrows(AccrException.class, () -> root.resolve(base, "../../../c.out"));
  }

  @Test
  void aLongOrControlCharacterPathIsQuotedOnOneBoundedLine() {
    AccrException e = assertThrows(AccrException.class,
        () -> root.resolve("/x\n" + "y".repeat(100_000)));
    assertTrue(e.getMessage().contains("'/x\\x0ayyy"), e.getMessage());
    assertTrue(e.getMessage().length() < 1000, "message length " + e.getMessage().length());
    AccrException nul = assertThrows(AccrException.class, () -> root.resolve("a\0b"));
    assertEquals(AccrException.USAGE, nul.exitCode());
    assertTrue(nul.getMessage().contains("'a\\x00b'"), nul.getMessage());
  }
}

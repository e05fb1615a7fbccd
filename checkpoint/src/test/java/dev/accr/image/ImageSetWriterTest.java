package dev.accr.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageSetWriterTest {
  @TempDir Path parent;

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void writeCore(ImageSetWriter set, int pid) throws IOException {
    EntryImageCodec.write(set.file("core-" + pid + ".img"), ImageKind.CORE, set.id(),
        List.of(CoreEntry.newBuilder().setPid(pid).setExe("counter").build()));
  }

  @Test
  void theSetAppearsWholeAtTheTargetOnlyOnCommitByRenamingTheTemporaryDirectory()
      throws Exception {
    Path target = parent.resolve("set");
    try (ImageSetWriter set = ImageSetWriter.create(target)) {
      assertEquals(target.toAbsolutePath(), set.target());
      Path temp = set.directory();
      assertEquals(parent.toAbsolutePath(), temp.getParent().toAbsolutePath());
      assertTrue(temp.getFileName().toString().startsWith(".set.partial-"), temp.toString());
      writeCore(set, 1000);
      Files.write(set.file("notes.bin"), new byte[] {1, 2, 3});
      assertFalse(Files.exists(target), "nothing at the target before commit");
      assertEquals(List.of(temp.getFileName().toString()), names(parent));
      Object fileKey = Files.readAttributes(set.file("core-1000.img"), BasicFileAttributes.class)
          .fileKey();

      set.commit(InventoryEntry.newBuilder().setRootPid(1000).setToolVersion("t")
          .addFiles(ImageFileRef.newBuilder().setName("stale.img")));

      assertFalse(Files.exists(temp));
      assertEquals(List.of("set"), names(parent), "no temporary directory is left");
      assertEquals(List.of("core-1000.img", "inventory.img", "notes.bin"), names(target));
      if (fileKey != null) {
        assertEquals(fileKey, Files.readAttributes(target.resolve("core-1000.img"),
            BasicFileAttributes.class).fileKey(), "the files were renamed, not copied");
      }
      InventoryEntry inventory = EntryImageCodec.read(target.resolve("inventory.img"),
          ImageKind.INVENTORY, set.id()).parseAll(InventoryEntry.parser()).getFirst();
      assertEquals(1000, inventory.getRootPid());
      assertEquals(ImageKind.VERSION_CURRENT, inventory.getFormatVersion());
      assertEquals(List.of(
          ImageFileRef.newBuilder().setName("core-1000.img").setKind("core")
              .setSize(Files.size(target.resolve("core-1000.img"))).build(),
          ImageFileRef.newBuilder().setName("notes.bin").setKind("").setSize(3).build()),
          inventory.getFilesList(), "the inventory lists what was written, nothing stale");
      EntryImageCodec.read(target.resolve("core-1000.img"), ImageKind.CORE, set.id());
    }
    assertTrue(Files.exists(target.resolve("inventory.img")), "close after commit keeps the set");
  }

  @Test
  void aTargetNamedLikeATemporaryDirectoryIsRefused() throws Exception {
    Path target = parent.resolve(".set.partial-0123456789abcdef");
    AccrException e = assertThrows(AccrException.class, () -> ImageSetWriter.create(target));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("temporary"), e.getMessage());
    assertEquals(List.of(), names(parent), "nothing written");
  }

  @Test
  void anEmptyTargetDirectoryIsReplacedOnCommit() throws Exception {
    Path target = Files.createDirectory(parent.resolve("empty"));
    try (ImageSetWriter set = ImageSetWriter.create(target)) {
      writeCore(set, 7);
      set.commit(InventoryEntry.newBuilder());
    }
    assertEquals(List.of("core-7.img", "inventory.img"), names(target));
  }

  @Test
  void abandoningLeavesNothingAndAnEarlierSetIsUntouched() throws Exception {
    Path earlier = parent.resolve("earlier");
    try (ImageSetWriter set = ImageSetWriter.create(earlier)) {
      writeCore(set, 1);
      set.commit(InventoryEntry.newBuilder().setRootPid(1));
    }
    byte[] earlierInventory = Files.readAllBytes(earlier.resolve("inventory.img"));
    byte[] earlierCore = Files.readAllBytes(earlier.resolve("core-1.img"));

    Path target = parent.resolve("later");
    try (ImageSetWriter set = ImageSetWriter.create(target)) {
      Files.createDirectories(set.file("sub"));
      Files.write(set.file("sub").resolve("deep.bin"), new byte[4096]);
      writeCore(set, 2);
    } // closed without commit: an interrupted dump
    assertEquals(List.of("earlier"), names(parent));
    assertFalse(Files.exists(target));
    assertArrayEquals(earlierInventory, Files.readAllBytes(earlier.resolve("inventory.img")));
    assertArrayEquals(earlierCore, Files.readAllBytes(earlier.resolve("core-1.img")));
    assertEquals(List.of("core-1.img", "inventory.img"), names(earlier));
  }

  @Test
  void aTargetThatFilledUpDuringTheDumpIsNotReplacedAndTheAttemptLeavesNothing()
      throws Exception {
    Path target = Files.createDirectory(parent.resolve("raced"));
    try (ImageSetWriter set = ImageSetWriter.create(target)) {
      writeCore(set, 3);
      Files.writeString(target.resolve("someone-else.txt"), "mine");
      assertThrows(IOException.class, () -> set.commit(InventoryEntry.newBuilder()));
    }
    assertEquals(List.of("raced"), names(parent));
    assertEquals(List.of("someone-else.txt"), names(target));
    assertEquals("mine", Files.readString(target.resolve("someone-else.txt")));
  }

  @Test
  void aNonEmptyTargetOrAMissingParentIsRefusedBeforeAnythingIsWritten() throws Exception {
    Path full = Files.createDirectory(parent.resolve("full"));
    Files.writeString(full.resolve("x"), "x");
    AccrException e = assertThrows(AccrException.class, () -> ImageSetWriter.create(full));
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    Path file = Files.writeString(parent.resolve("a-file"), "f");
    assertThrows(AccrException.class, () -> ImageSetWriter.create(file));
    assertThrows(AccrException.class,
        () -> ImageSetWriter.create(parent.resolve("no").resolve("such").resolve("set")));
    assertEquals(List.of("a-file", "full"), names(parent), "no temporary directory was made");
  }

  @Test
  void everySetHasItsOwnCheckpointId() {
    try (ImageSetWriter a = ImageSetWriter.create(parent.resolve("a"));
        ImageSetWriter b = ImageSetWriter.create(parent.resolve("b"))) {
      assertFalse(a.id().equals(b.id()));
    }
  }
}

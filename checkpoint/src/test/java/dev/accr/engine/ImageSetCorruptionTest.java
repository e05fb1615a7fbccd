package dev.accr.engine;

import static dev.accr.testkit.ImageDamage.assertFails;
import static dev.accr.testkit.ImageDamage.flipBit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.google.protobuf.MessageLite;
import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.image.Compression;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.PagemapHead;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damages the files of a real image set one at a time and checks that restore fails with exit
 * code 3 naming the file, and leaves nothing on the node.
 */
class ImageSetCorruptionTest {
  @TempDir static Path shared;
  /** A good set written by two threads (two pages files). */
  private static Path source;
  /** Two sets of identical runs written by one thread: same file sizes, other checkpoint ids. */
  private static Path single;
  private static Path other;
  private static int pid;

  @TempDir Path tmp;

  @BeforeAll
  static void dumpIdenticalRuns() throws IOException {
    source = dumpCounter("a", 2);
    single = dumpCounter("b", 1);
    other = dumpCounter("c", 1);
  }

  private static Path dumpCounter(String name, int threads) throws IOException {
    Node node = Scenarios.node(name);
    try {
      SimProcess p = node.create("counter", List.of("--mem-mib", "2", "--steps", "10", "--seed",
          "7", "--out", shared.resolve(name + ".out").toString()), shared, 0);
      Scenarios.step(p, 4);
      pid = p.pid();
      Path dir = shared.resolve("img-" + name);
      Scenarios.dump(node, p, dir, DumpOptions.defaults().withThreads(threads)
          .withCompression(Compression.parse("zstd")).withChunkPages(1));
      return dir;
    } finally {
      node.close();
    }
  }

  @Test
  void undamagedCopyRestores() throws IOException {
    Path dir = copy(source, "good");
    Node node = Scenarios.node("b");
    try {
      assertEquals(pid, Scenarios.restore(node, dir).pid());
      assertTrue(node.memory().residentPages() > 0, "the restored process has its pages");
    } finally {
      node.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> everyFileTruncatedFlippedEmptiedOrDeletedFailsNamingIt() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (String name : fileNames(source)) {
      tests.add(damageTest(name, "truncated to half", f -> truncate(f, Files.size(f) / 2)));
      tests.add(damageTest(name, "emptied", f -> truncate(f, 0)));
      tests.add(damageTest(name, "bit flipped in the middle", f -> {
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, flipBit(bytes, bytes.length / 2, 4));
      }));
      tests.add(damageTest(name, "deleted", Files::delete));
    }
    assertTrue(fileNames(source).containsAll(List.of("inventory.img", "pstree.img",
        "core-" + pid + ".img", "mm-" + pid + ".img", "pagemap-" + pid + ".img", "pages-1.img",
        "pages-2.img", "files.img", "stats-dump.img")), "the set has every kind of file");
    return tests.stream();
  }

  private DynamicTest damageTest(String name, String damage, FileAction action) {
    return dynamicTest(name + " " + damage, () -> {
      Path dir = copy(source, name + "-" + damage.replace(' ', '-'));
      action.apply(dir.resolve(name));
      String context = name + " " + damage;
      AccrException e = failedRestore(dir, context);
      if (name.equals("inventory.img") && damage.equals("deleted")) {
        assertTrue(e.getMessage().contains("no inventory.img"), e.getMessage());
      } else {
        assertNames(e, dir.resolve(name), context);
      }
    });
  }

  /** With the inventory updated to match, the damage is found by the page loader. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 40, 47, 60, 4096})
  void pagesFileTruncatedWithAMatchingInventoryFailsNamingIt(int cut) throws IOException {
    Path dir = copy(source, "cut-" + cut);
    Path pages = largestPagesFile(dir);
    truncate(pages, Math.max(0, Files.size(pages) - 16 - cut)); // the footer and `cut` more
    updateInventorySizes(dir);
    assertNames(failedRestore(dir, "cut " + cut), pages, "cut " + cut);
  }

  @TestFactory
  Stream<DynamicTest> fileOfAnotherImageSetFailsNamingIt() throws IOException {
    return fileNames(single).stream().filter(n -> !n.equals("inventory.img")).map(name ->
        dynamicTest(name + " from another set", () -> {
          Path dir = copy(single, "swap-" + name);
          Files.copy(other.resolve(name), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
          AccrException e = failedRestore(dir, name + " swapped");
          assertNames(e, dir.resolve(name), name + " swapped");
          if (!name.equals("stats-dump.img")) { // holds timings: its size may differ
            assertTrue(e.getMessage().contains("another image set"), e.getMessage());
          }
        }));
  }

  @Test
  void inventoryOfAnotherImageSetFails() throws IOException {
    Path dir = copy(single, "swap-inventory");
    Files.copy(other.resolve("inventory.img"), dir.resolve("inventory.img"),
        StandardCopyOption.REPLACE_EXISTING);
    updateInventorySizes(dir); // so that only the checkpoint id differs
    String message = failedRestore(dir, "inventory.img swapped").getMessage();
    assertTrue(message.contains("another image set"), message);
  }

  /**
   * A pagemap with a hostile number in its first chunk, written with a valid checksum and listed
   * with its new size, so that only the cross-checks stand between it and the page loader.
   */
  @ParameterizedTest
  @ValueSource(strings = {"nrPages=-1", "nrPages=-2147483648", "nrPages=4097", "storedLength=-1",
      "storedLength=2147483647", "fileOffset=-1", "fileOffset=9223372036854775807",
      "pagesFile=-1", "vaddr=-4096"})
  void pagemapWithAHostileNumberFails(String change) throws IOException {
    Path dir = copy(source, "hostile-" + change);
    String field = change.substring(0, change.indexOf('='));
    long value = Long.parseLong(change.substring(change.indexOf('=') + 1));
    List<PageChunkEntry> chunks = rewritePagemap(dir, all -> {
      PageChunkEntry.Builder first = all.get(0).toBuilder();
      PageRun.Builder run = first.getRuns(0).toBuilder();
      switch (field) {
        case "nrPages" -> first.setRuns(0, run.setNrPages((int) value));
        case "vaddr" -> first.setRuns(0, run.setVaddr(value));
        case "storedLength" -> first.setStoredLength((int) value);
        case "fileOffset" -> first.setFileOffset(value);
        case "pagesFile" -> first.setPagesFile((int) value);
        default -> throw new IllegalArgumentException(change);
      }
      List<PageChunkEntry> changed = new ArrayList<>(all);
      changed.set(0, first.build());
      return changed;
    });
    AccrException e = failedRestore(dir, change);
    // A wrong length or offset is found where the chunk is: the pages file is named instead.
    String named = field.equals("storedLength") || field.equals("fileOffset")
        ? "pages-" + chunks.get(0).getPagesFile() + ".img" : "pagemap-" + pid + ".img";
    assertNames(e, dir.resolve(named), change);
  }

  /** The largest chunk's size is what the page loader allocates buffers for. */
  @ParameterizedTest
  @ValueSource(ints = {-1, Integer.MIN_VALUE, -4096, 1 << 20})
  void pagemapWhoseOnlyRunHasAHostileLengthFails(int nrPages) throws IOException {
    Path dir = copy(source, "only-run-" + nrPages);
    rewritePagemap(dir, all -> List.of(all.get(0).toBuilder().clearRuns()
        .addRuns(all.get(0).getRuns(0).toBuilder().setNrPages(nrPages)).build()));
    assertNames(failedRestore(dir, "nrPages " + nrPages), dir.resolve("pagemap-" + pid + ".img"),
        "nrPages " + nrPages);
  }

  /**
   * Replaces the chunk entries of the pagemap (same id, valid checksum) and updates the
   * inventory to match; returns the original entries.
   */
  private static List<PageChunkEntry> rewritePagemap(Path dir,
      UnaryOperator<List<PageChunkEntry>> change) throws IOException {
    Path pagemap = dir.resolve("pagemap-" + pid + ".img");
    EntryImage image = EntryImageCodec.read(pagemap, ImageKind.PAGEMAP, null);
    List<PageChunkEntry> chunks = image.parseRange(PageChunkEntry.parser(), 1,
        image.entries().size());
    List<MessageLite> entries = new ArrayList<>(List.of(image.parse(PagemapHead.parser(), 0)));
    entries.addAll(change.apply(chunks));
    Files.write(pagemap, EntryImageCodec.encode(ImageKind.PAGEMAP, ImageKind.VERSION_CURRENT,
        image.header().id(), pagemap.getFileName().toString(), entries));
    updateInventorySizes(dir);
    return chunks;
  }

  /**
   * Restores {@code dir} on a fresh node, expecting exit code 3 and a message naming a file of
   * the set; checks that the failed restore left nothing on the node.
   */
  private static AccrException failedRestore(Path dir, String context) {
    Node node = Scenarios.node("b");
    try {
      AccrException e = assertFails(AccrException.CORRUPT, dir.toString(), context,
          () -> Scenarios.restore(node, dir));
      assertEquals(List.of(), node.processes(), context + ": a failed restore leaves no process");
      assertEquals(0, node.memory().residentPages(), context + ": it leaves no pages");
      assertEquals(0, node.memory().reservedBytes(), context + ": it leaves no slabs");
      return e;
    } finally {
      node.close();
    }
  }

  private static void assertNames(AccrException e, Path file, String context) {
    CorruptImageException corrupt = assertInstanceOf(CorruptImageException.class, e, context);
    assertEquals(file.toString(), corrupt.file(), context + ": " + e.getMessage());
  }

  /** Rewrites inventory.img (same checkpoint id) with the sizes the files now have. */
  private static void updateInventorySizes(Path dir) throws IOException {
    Path file = dir.resolve("inventory.img");
    EntryImage image = EntryImageCodec.read(file, ImageKind.INVENTORY, null);
    InventoryEntry.Builder inventory = image.single(InventoryEntry.parser()).toBuilder();
    UnaryOperator<ImageFileRef> resize = ref -> ref.toBuilder()
        .setSize(sizeOf(dir.resolve(ref.getName()))).build();
    List<ImageFileRef> refs = inventory.getFilesList().stream().map(resize).toList();
    inventory.clearFiles().addAllFiles(refs);
    Files.write(file, EntryImageCodec.encode(ImageKind.INVENTORY, ImageKind.VERSION_CURRENT,
        image.header().id(), file.getFileName().toString(), List.of(inventory.build())));
  }

  private static long sizeOf(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Which worker wrote more chunks varies: take the file with the most. */
  private static Path largestPagesFile(Path dir) throws IOException {
    Path largest = null;
    for (String name : fileNames(dir)) {
      Path f = dir.resolve(name);
      if (name.startsWith("pages-") && (largest == null || Files.size(f) > Files.size(largest))) {
        largest = f;
      }
    }
    assertTrue(largest != null && Files.size(largest) > 4096 + 100, "a pages file with chunks");
    return largest;
  }

  private static List<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  private Path copy(Path from, String name) throws IOException {
    Path to = Files.createDirectory(tmp.resolve(name));
    for (String f : fileNames(from)) {
      Files.copy(from.resolve(f), to.resolve(f));
    }
    return to;
  }

  private static void truncate(Path f, long length) throws IOException {
    byte[] bytes = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(bytes, (int) length));
  }

  @FunctionalInterface
  private interface FileAction {
    void apply(Path file) throws IOException;
  }
}

package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.plugin.PluginHost;
import dev.accr.api.AccrException;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PagemapHead;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restores that must be refused before anything is created, and what they leave behind. */
class RestorerTest {
  @TempDir Path tmp;
  private Path set;
  private Node target;

  @BeforeEach
  void dumpACounter() throws Exception {
    set = tmp.resolve("set-" + System.nanoTime());
    Node source = Scenarios.node("source");
    SimProcess p = source.create("counter", List.of("--mem-mib", "4", "--steps", "20",
        "--out", tmp.resolve("c.out").toString()), tmp, 0);
    Scenarios.step(p, 10);
    Scenarios.dump(source, p, set, DumpOptions.defaults());
    target = Scenarios.node("target");
  }

  @Test
  void aSetThatNeedsAMissingPluginIsIncompatibleAndNamesIt() throws Exception {
    rewrite(ImageKind.INVENTORY.fileName(), ImageKind.INVENTORY, InventoryEntry.parser(),
        inv -> ((InventoryEntry) inv).toBuilder().addPlugins("kfd").build());
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(target, set));
    assertEquals(AccrException.INCOMPATIBLE, e.exitCode());
    assertTrue(e.getMessage().contains("plugin 'kfd'"), e.getMessage());
    assertNothingLeft();
  }

  @Test
  void aProgramThatIsNotInstalledIsIncompatible() throws Exception {
    String core = fileStartingWith("core-");
    rewrite(core, ImageKind.CORE, CoreEntry.parser(),
        c -> ((CoreEntry) c).toBuilder().setExe("no-such-program").build());
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(target, set));
    assertEquals(AccrException.INCOMPATIBLE, e.exitCode());
    assertTrue(e.getMessage().contains("no-such-program"), e.getMessage());
    assertNothingLeft();
  }

  @Test
  void anOpenFileThatShrankIsAClearFailure() throws Exception {
    Files.writeString(tmp.resolve("c.out"), "");
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(target, set));
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().contains("c.out") && e.getMessage().contains("size"), e.getMessage());
    assertNothingLeft();
  }

  @Test
  void aTakenPidIsAClearFailureAndTheHolderIsUntouched() throws Exception {
    SimProcess first = Scenarios.restore(target, set);
    long resident = target.memory().residentPages();
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(target, set));
    assertTrue(e.getMessage().contains("pid " + first.pid() + " is already taken"), e.getMessage());
    assertEquals(List.of(first), target.processes());
    assertEquals(resident, target.memory().residentPages());
  }

  @Test
  void hostileValuesInsideEntriesAreCorruptForCheckAndRestoreAlike() throws Exception {
    String mm = fileStartingWith("mm-");
    rewrite(mm, ImageKind.MM, MmEntry.parser(), m -> ((MmEntry) m).toBuilder()
        .setVmas(0, ((MmEntry) m).getVmas(0).toBuilder().setLength(1L << 51)).build());
    assertCorrupt(mm);

    dumpACounter();
    String core = fileStartingWith("core-");
    rewrite(core, ImageKind.CORE, CoreEntry.parser(), c -> ((CoreEntry) c).toBuilder()
        .addFds(((CoreEntry) c).getFds(0)).build());
    assertCorrupt(core);

    dumpACounter();
    rewrite(ImageKind.FILES.fileName(), ImageKind.FILES, FileEntry.parser(),
        f -> ((FileEntry) f).toBuilder().setReg(((FileEntry) f).getReg().toBuilder().setPos(-5))
            .build());
    assertCorrupt(ImageKind.FILES.fileName()); // the position is in files.img
  }

  @Test
  void aPagemapAnnouncingMoreChunksThanThePagesFilesHoldIsRefusedUnparsed() throws Exception {
    String pagemap = fileStartingWith("pagemap-");
    Path file = set.resolve(pagemap);
    EntryImage image = EntryImageCodec.read(file, ImageKind.PAGEMAP, null);
    List<com.google.protobuf.MessageLite> entries = new java.util.ArrayList<>();
    entries.add(image.parse(PagemapHead.parser(), 0));
    PageChunkEntry chunk = image.parse(PageChunkEntry.parser(), 1);
    for (int i = 0; i < 200_000; i++) {
      entries.add(chunk);
    }
    Files.write(file, EntryImageCodec.encode(ImageKind.PAGEMAP, ImageKind.VERSION_CURRENT,
        image.header().id(), file.getFileName().toString(), entries));
    updateInventorySize(pagemap, file);
    AccrException e = assertCorrupt(pagemap);
    assertTrue(e.getMessage().contains("chunks: actual=200000"), e.getMessage());
  }

  @Test
  void aSetLargerThanTheNodesFreeMemoryIsIncompatible() throws Exception {
    Node small = new Node("small", Scenarios.registry().topologies().parse("""
        {"name": "tiny", "cpus": [{"node": 0, "cores": 1, "memoryBytes": "65536"}]}""", "test"),
        Scenarios.registry());
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(small, set));
    assertEquals(AccrException.INCOMPATIBLE, e.exitCode());
    assertTrue(e.getMessage().contains("MiB of memory"), e.getMessage());
    assertEquals(List.of(), small.processes());
  }

  private AccrException assertCorrupt(String name) {
    AccrException checked = assertThrows(AccrException.class, () -> ImageChecker.check(set, 2, PluginHost.of(Scenarios.registry().plugins())));
    assertEquals(AccrException.CORRUPT, checked.exitCode(), checked.getMessage());
    AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(target, set));
    assertEquals(AccrException.CORRUPT, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains(name), e.getMessage());
    assertNothingLeft();
    return e;
  }

  private String fileStartingWith(String prefix) throws Exception {
    try (var files = Files.list(set)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
          .findFirst().orElseThrow();
    }
  }

  private void updateInventorySize(String name, Path file) throws Exception {
    rewrite(ImageKind.INVENTORY.fileName(), ImageKind.INVENTORY, InventoryEntry.parser(),
        inv -> ((InventoryEntry) inv).toBuilder().clearFiles().addAllFiles(
            ((InventoryEntry) inv).getFilesList().stream().map(ref -> ref.getName().equals(name)
                ? ref.toBuilder().setSize(file.toFile().length()).build() : ref).toList())
            .build());
  }

  private void assertNothingLeft() {
    assertEquals(List.of(), target.processes());
    assertEquals(0, target.memory().residentPages());
    assertEquals(0, target.memory().reservedBytes());
  }

  /** Rewrites one single-entry file and the inventory's record of its size. */
  private <T extends com.google.protobuf.Message> void rewrite(String name, ImageKind kind,
      com.google.protobuf.Parser<T> parser, UnaryOperator<com.google.protobuf.Message> change)
      throws Exception {
    Path file = set.resolve(name);
    EntryImage image = EntryImageCodec.read(file, kind, null);
    com.google.protobuf.Message changed = change.apply(image.single(parser));
    Files.write(file, EntryImageCodec.encode(kind, ImageKind.VERSION_CURRENT, image.header().id(),
        file.getFileName().toString(), List.of(changed)));
    if (kind != ImageKind.INVENTORY) {
      updateInventorySize(name, file);
    }
  }
}

package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.accr.api.AccrException;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values no run of the program can reach, in correctly framed images (checksums and sizes
 * recomputed): each restore fails with exit code 3 naming the file, and leaves nothing behind.
 */
class HostileValuesTest {
  @TempDir static Path shared;
  private static Path source;
  private static int pid;

  @TempDir Path tmp;

  @BeforeAll
  static void dumpCounter() throws IOException {
    try (Node node = Scenarios.node("a")) {
      SimProcess p = node.create("counter", List.of("--mem-mib", "1", "--steps", "10", "--out",
          shared.resolve("a.out").toString()), shared, 0);
      Scenarios.step(p, 3);
      pid = p.pid();
      source = shared.resolve("set");
      Scenarios.dump(node, p, source, DumpOptions.defaults());
    }
  }

  @Test
  void programCounterNoStepReachesIsCorrupt() throws Exception {
    Path dir = edit(ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setThreads(0, c.getThreads(0).toBuilder().setPc(Long.MAX_VALUE))
            .build());
    assertRefused(dir, "core-" + pid + ".img");
  }

  @Test
  void stepRegisterBeyondTheLastStepIsCorrupt() throws Exception {
    Path dir = edit(ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setThreads(0, c.getThreads(0).toBuilder().setGpr(0, 1L << 40)
            .setPc(1L << 40)).build());
    assertRefused(dir, "core-" + pid + ".img");
  }

  @ParameterizedTest(name = "descriptor {0}")
  @ValueSource(ints = {1, 7, -1, Integer.MAX_VALUE})
  void aDescriptorNumberTheProgramDoesNotUseIsCorrupt(int fd) throws Exception {
    Path dir = edit(ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setFds(0, c.getFds(0).toBuilder().setFd(fd)).build());
    assertRefused(dir, "core-" + pid + ".img");
  }

  @Test
  void aDescriptorListedTwiceIsCorrupt() throws Exception {
    Path dir = edit(ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().addFds(c.getFds(0)).build());
    assertRefused(dir, "core-" + pid + ".img");
  }

  @Test
  void anOutputFileReopenedReadOnlyIsCorrupt() throws Exception {
    Path dir = edit("files.img", ImageKind.FILES, FileEntry.parser(), f -> f.hasReg()
        ? f.toBuilder().setReg(f.getReg().toBuilder().setFlags(dev.accr.api.FileView.O_READ))
            .build() : f);
    assertRefused(dir, "files.img");
  }

  @Test
  void filePositionFarBeyondAnyFileIsCorrupt() throws Exception {
    Path dir = edit("files.img", ImageKind.FILES, FileEntry.parser(), f -> f.hasReg()
        ? f.toBuilder().setReg(f.getReg().toBuilder().setPos(1L << 62)).build() : f);
    assertRefused(dir, "files.img");
  }

  @Test
  void filePositionTheProgramDidNotWriteIsCorrupt() throws Exception {
    Path dir = edit("files.img", ImageKind.FILES, FileEntry.parser(), f -> f.hasReg()
        ? f.toBuilder().setReg(f.getReg().toBuilder().setPos(f.getReg().getPos() + 4096))
            .build() : f);
    assertRefused(dir, "files.img");
  }

  @Test
  void nulInAFilePathIsCorrupt() throws Exception {
    Path dir = edit("files.img", ImageKind.FILES, FileEntry.parser(), f -> f.hasReg()
        ? f.toBuilder().setReg(f.getReg().toBuilder().setPath(f.getReg().getPath() + "\0x"))
            .build() : f);
    assertRefused(dir, "files.img");
  }

  @Test
  void aRelativeFilePathIsCorruptNotResolvedWhereTheNodeRuns() throws Exception {
    Path dir = edit("files.img", ImageKind.FILES, FileEntry.parser(), f -> f.hasReg()
        ? f.toBuilder().setReg(f.getReg().toBuilder().setPath("victim.txt")).build() : f);
    assertRefused(dir, "files.img");
  }

  @Test
  void aRelativeWorkingDirectoryIsCorrupt() throws Exception {
    Path dir = edit(ImageKind.CORE.fileName(pid), ImageKind.CORE, CoreEntry.parser(),
        c -> c.toBuilder().setCwd("elsewhere").build());
    assertRefused(dir, "core-" + pid + ".img");
  }

  @Test
  void nulInAFileNameOfTheInventoryIsCorrupt() throws Exception {
    Path dir = copy("inventory-nul");
    Path file = dir.resolve("inventory.img");
    EntryImage image = EntryImageCodec.read(file, ImageKind.INVENTORY, null);
    InventoryEntry inventory = image.single(InventoryEntry.parser());
    InventoryEntry changed = inventory.toBuilder().addFiles(ImageFileRef.newBuilder()
        .setName("pages-9.img\0").setKind("pages").setSize(1)).build();
    write(file, ImageKind.INVENTORY, image, List.of(changed));
    assertRefused(dir, "inventory.img");
  }

  private static void assertRefused(Path dir, String file) {
    try (Node node = Scenarios.node("b")) {
      ImageDamage.assertFails(AccrException.CORRUPT, file, dir.toString(),
          () -> Scenarios.restore(node, dir));
      assertEquals(List.of(), node.processes(), "a failed restore leaves no process");
      assertEquals(0, node.memory().residentPages(), "it leaves no pages");
    }
  }

  /** A copy of the set with every entry of {@code name} changed, re-framed and re-listed. */
  private <T extends MessageLite> Path edit(String name, ImageKind kind, Parser<T> parser,
      UnaryOperator<T> change) throws IOException {
    Path dir = copy(name.replace('.', '-') + "-" + System.nanoTime());
    ImageEdits.edit(dir, name, kind, parser, change);
    return dir;
  }

  private static void write(Path file, ImageKind kind, EntryImage image,
      List<? extends MessageLite> entries) throws IOException {
    Files.write(file, EntryImageCodec.encode(kind, ImageKind.VERSION_CURRENT, image.header().id(),
        file.getFileName().toString(), entries));
  }

  private Path copy(String name) throws IOException {
    return ImageEdits.copy(source, tmp.resolve(name));
  }
}

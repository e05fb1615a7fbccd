package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import dev.accr.api.AccrException;
import dev.accr.image.DirectoryTrees;
import dev.accr.image.ImageKind;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.InventoryEntry;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every way a link of a chain can break is exit code 3 with one line naming the link. */
class ImageChainTest {
  @TempDir Path tmp;
  private Node node;
  private Path chain;

  @BeforeEach
  void threeLinks() throws Exception {
    node = Scenarios.node("a");
    chain = tmp.resolve("chain");
    Files.createDirectory(chain);
    dumpChain(chain, "c.out", 3);
  }

  /** Links l0 (pre-dump), l1 (dump -R), l2 (dump) of a new counter process in {@code dir}. */
  private int dumpChain(Path dir, String out, int links) throws IOException {
    SimProcess p = node.create("counter", List.of("--mem-mib", "1", "--steps", "100",
        "--pages-per-step", "4", "--out", tmp.resolve(out).toString()), tmp, 0);
    Path previous = null;
    for (int i = 0; i < links; i++) {
      Scenarios.step(p, 3);
      Dumper d = new Dumper(node, Scenarios.plugins(node)).withParent(previous,
          UnaryOperator.identity());
      Path link = dir.resolve("l" + i);
      if (i == 0) {
        d.preDump(p.pid(), link, DumpOptions.defaults(), ProgressListener.NONE);
      } else {
        d.dump(p.pid(), link, DumpOptions.defaults().withLeaveRunning(i < links - 1),
            ProgressListener.NONE);
      }
      previous = link;
    }
    if (node.hasPid(p.pid())) {
      node.kill(p.pid());
    }
    return p.pid();
  }

  @Test
  void theChainIsReadNewestFirstWithRelativeParents() throws Exception {
    ImageChain c = ImageChain.read(chain.resolve("l2"));
    assertEquals(List.of("l2", "l1", "l0"), c.links().stream()
        .map(s -> s.dir().getFileName().toString()).toList());
    assertEquals("../l1", c.last().inventory().getParentPath());
    // The chain moves as a whole.
    Path moved = tmp.resolve("moved");
    Files.move(chain, moved);
    assertEquals(3, ImageChain.read(moved.resolve("l2")).links().size());
  }

  @Test
  void theLinksADumpReadsAreThoseOfTheChainEachVerified() throws Exception {
    assertEquals(ImageChain.read(chain.resolve("l2")).links().stream().map(ImageSet::id)
        .toList(), ImageChain.readLinks(chain.resolve("l2"), UnaryOperator.identity()).links()
        .stream().map(ImageSet::id).toList());
    Path other = tmp.resolve("other");
    Files.createDirectory(other);
    dumpChain(other, "o.out", 2);
    Path copy = copyChain("mixed");
    DirectoryTrees.delete(copy.resolve("l1"));
    ImageEdits.copy(other.resolve("l1"), copy.resolve("l1"));
    ImageDamage.assertFails(AccrException.CORRUPT, "another dump, or another chain", "mixed",
        () -> ImageChain.readLinks(copy.resolve("l2"), UnaryOperator.identity()));
    Path truncated = copyChain("truncated");
    Path pagemap;
    try (Stream<Path> s = Files.list(truncated.resolve("l0"))) {
      pagemap = s.filter(f -> f.getFileName().toString().startsWith("pagemap-")).findFirst()
          .orElseThrow();
    }
    Files.write(pagemap, new byte[1]);
    ImageDamage.assertFails(AccrException.CORRUPT, "pagemap-", "truncated",
        () -> ImageChain.readLinks(truncated.resolve("l2"), UnaryOperator.identity()));
  }

  @Test
  void aDeletedParentIsExitThreeNamingTheLink() throws Exception {
    DirectoryTrees.delete(chain.resolve("l1"));
    assertBroken("l2", "'../l1' is missing", () -> restore("l2"));
  }

  @Test
  void aDamagedFileOfAnyLinkIsExitThree() throws Exception {
    for (String link : List.of("l0", "l1", "l2")) {
      Path copy = copyChain("damaged-" + link);
      Path mm;
      try (Stream<Path> s = Files.list(copy.resolve(link))) {
        mm = s.filter(f -> f.getFileName().toString().startsWith("mm-")).findFirst().orElseThrow();
      }
      byte[] bytes = Files.readAllBytes(mm);
      Files.write(mm, ImageDamage.flipBit(bytes, bytes.length / 2, 3));
      AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, "mm-",
          "damaged " + link, () -> ImageChecker.check(copy.resolve("l2"), 1,
              Scenarios.plugins(node)));
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }

  @Test
  void damagedPagesOfAParentAreFoundByCheck() throws Exception {
    Path pages = chain.resolve("l0").resolve("pages-1.img");
    byte[] bytes = Files.readAllBytes(pages);
    Files.write(pages, ImageDamage.flipBit(bytes, bytes.length / 2, 1));
    ImageDamage.assertFails(AccrException.CORRUPT, "pages-1.img", "damaged pages",
        () -> ImageChecker.check(chain.resolve("l2"), 1, Scenarios.plugins(node)));
  }

  @Test
  void aParentOfAnotherChainIsExitThree() throws Exception {
    Path other = tmp.resolve("other");
    Files.createDirectory(other);
    dumpChain(other, "o.out", 2);
    DirectoryTrees.delete(chain.resolve("l1"));
    ImageEdits.copy(other.resolve("l1"), chain.resolve("l1"));
    assertBroken("l2", "another dump, or another chain", () -> restore("l2"));
  }

  @Test
  void aParentOfAnotherProcessIsExitThree() throws Exception {
    Path other = tmp.resolve("other");
    Files.createDirectory(other);
    int otherPid = dumpChain(other, "o.out", 1);
    ImageSet foreign = ImageSet.read(other.resolve("l0"));
    DirectoryTrees.delete(chain.resolve("l1"));
    ImageEdits.copy(other.resolve("l0"), chain.resolve("l1"));
    setParent(chain.resolve("l2"), "../l1", foreign);
    assertBroken("l2", "is of process " + otherPid, () -> restore("l2"));
  }

  @Test
  void aCycleOfParentsIsExitThree() throws Exception {
    setParent(chain.resolve("l0"), "../l2", ImageSet.read(chain.resolve("l2")));
    assertBroken("l0", "is a cycle", () -> ImageChecker.check(chain.resolve("l2"), 1,
        Scenarios.plugins(node)));
  }

  @Test
  void aPreDumpAloneIsNotRestorable() throws Exception {
    ImageDamage.assertFails(AccrException.FAILED, "pre-dump", "restore of a pre-dump",
        () -> restore("l0"));
  }

  @Test
  void aParentOutsideWhatTheCallerMayNameIsRefused() throws Exception {
    UnaryOperator<Path> confine = p -> {
      if (p.getFileName().toString().equals("l0")) {
        throw AccrException.usage("%s is outside the image root", p);
      }
      return p;
    };
    ImageDamage.assertFails(AccrException.USAGE, "outside the image root", "confined",
        () -> new Restorer(node, Scenarios.plugins(node)).parentsConfinedBy(confine)
            .restore(chain.resolve("l2"), RestoreOptions.defaults(), ProgressListener.NONE));
  }

  private static void setParent(Path dir, String path, ImageSet parent) throws IOException {
    ImageEdits.edit(dir, ImageKind.INVENTORY.fileName(), ImageKind.INVENTORY,
        InventoryEntry.parser(), inv -> inv.toBuilder().setParentPath(path)
            .setParentId(ByteString.copyFrom(parent.id().bytes())).build());
  }

  private void restore(String link) throws IOException {
    Scenarios.restore(node, chain.resolve(link));
  }

  private Path copyChain(String name) throws IOException {
    Path copy = tmp.resolve(name);
    Files.createDirectory(copy);
    for (String link : List.of("l0", "l1", "l2")) {
      ImageEdits.copy(chain.resolve(link), copy.resolve(link));
    }
    return copy;
  }

  private void assertBroken(String link, String mustContain, Executable action) {
    AccrException e = ImageDamage.assertFails(AccrException.CORRUPT, mustContain, link, action);
    String inventory = chain.resolve(link).resolve("inventory.img").toString();
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    if (!e.getMessage().contains(inventory)) {
      throw new AssertionError("the message names " + inventory + ": " + e.getMessage());
    }
  }
}

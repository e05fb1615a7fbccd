package dev.accr.testimages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.MemoryView;
import dev.accr.engine.ImageChain;
import dev.accr.engine.ImageChecker;
import dev.accr.engine.ImageSet;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.InventoryEntry;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every checked-in image set restores, on a node of the topology it was dumped on, and
 * finishes with its recorded digest; and the sets cover what this build must read.
 */
class RestoreTestImagesTest {

  static List<Path> sets() throws IOException {
    return TestImageSets.all();
  }

  @Test
  void theCurrentFormatVersionHasASetOfEveryRecipe() throws IOException {
    List<String> missing = new ArrayList<>(SetRecipes.setNames());
    missing.removeAll(TestImageSets.setsOf(ImageKind.VERSION_CURRENT));
    assertTrue(missing.isEmpty(), "format version " + ImageKind.VERSION_CURRENT
        + " has no checked-in image set for " + missing + " under "
        + TestImageSets.currentVersionDir() + ": generate them (see test-images/README.md)");
  }

  @Test
  void everyReadableVersionHasSetsListedInVersionsTxt() throws IOException {
    Map<Integer, TestImageSets.VersionLine> versions = TestImageSets.versions();
    for (int v = ImageKind.VERSION_START; v <= ImageKind.VERSION_CURRENT; v++) {
      List<String> found = TestImageSets.setsOf(v);
      assertTrue(!found.isEmpty(), "no image sets for format version " + v + " under "
          + TestImageSets.versionDir(v));
      assertTrue(versions.containsKey(v), "versions.txt has no line for format version " + v);
      assertEquals(found, versions.get(v).sets(), "versions.txt, format version " + v);
    }
    assertEquals(TestImageSets.all().size(),
        versions.values().stream().mapToInt(l -> l.sets().size()).sum(),
        "versions.txt lists sets of versions this build does not read: " + versions.keySet());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sets")
  void restoresAndFinishesWithTheRecordedDigest(Path set) throws IOException {
    int formatVersion = Integer.parseInt(set.getParent().getFileName().toString().substring(1));
    if (!TestImageSets.isChain(set)) {
      restoreAndFinish(set, formatVersion);
      return;
    }
    // A chain restores from its last link, and its first link is a full set of its own.
    List<Path> links = TestImageSets.links(set);
    assertEquals(Files.readString(set.resolve(TestImageSets.EXPECTED_DIGEST)),
        Files.readString(links.getLast().resolve(TestImageSets.EXPECTED_DIGEST)),
        "the chain's digest is its last link's");
    assertEquals(links.size(), ImageChain.read(links.getLast()).links().size(),
        "links of " + links.getLast());
    InventoryEntry first = ImageSet.read(links.getFirst()).inventory();
    assertTrue(first.getParentPath().isEmpty() && !first.getPreDump(),
        links.getFirst() + " is a full dump");
    for (Path link : List.of(links.getFirst(), links.getLast())) {
      restoreAndFinish(link, formatVersion);
    }
  }

  /**
   * The current version's chains hold what they are kept for: a page that became zero and
   * pages unmapped (then mapped anew) between links, and VRAM buffers freed and allocated again
   * between the first and the last link.
   */
  @Test
  void theChainsHoldZeroedAndUnmappedPagesAndBuffersFreedAndReallocated() throws IOException {
    Path counter = TestImageSets.currentVersionDir().resolve("counter-chain");
    ImageSet.ProcessImages second = onlyProcess(counter.resolve(TestImageSets.LINK + 2));
    long zeroed = ChainRecipes.SCRATCH + 3 * MemoryView.PAGE_SIZE;
    assertTrue(second.zeroRuns().stream().anyMatch(r -> r.getVaddr() <= zeroed
        && zeroed < r.getVaddr() + r.getNrPages() * MemoryView.PAGE_SIZE),
        "link 2 records the zeroed page: " + second.zeroRuns());
    long unmapped = ChainRecipes.SCRATCH + ChainRecipes.TAIL * MemoryView.PAGE_SIZE;
    assertTrue(maps(onlyProcess(counter.resolve(TestImageSets.LINK + 1)), unmapped)
        && !maps(second, unmapped) && maps(onlyProcess(counter.resolve(TestImageSets.LINK + 3)),
        unmapped), "mapped in link 1, unmapped in link 2, mapped anew in link 3");

    List<Path> serve = TestImageSets.links(TestImageSets.currentVersionDir()
        .resolve("kfd-serve-chain"));
    Set<Long> firstBuffers = vramBuffers(serve.getFirst());
    Set<Long> lastBuffers = vramBuffers(serve.getLast());
    assertTrue(!lastBuffers.containsAll(firstBuffers) && !firstBuffers.containsAll(lastBuffers),
        "buffers freed " + firstBuffers + " and allocated " + lastBuffers);
  }

  private static ImageSet.ProcessImages onlyProcess(Path set) throws IOException {
    Map<Integer, ImageSet.ProcessImages> processes = ImageSet.read(set).processes();
    assertEquals(1, processes.size(), "processes of " + set);
    return processes.values().iterator().next();
  }

  private static boolean maps(ImageSet.ProcessImages images, long address) {
    return images.mm().getVmasList().stream()
        .anyMatch(v -> v.getStart() <= address && address < v.getStart() + v.getLength());
  }

  /** The VRAM buffers of a set's kfd process, as GPU address and handle. */
  private static Set<Long> vramBuffers(Path set) throws IOException {
    Set<Long> out = new TreeSet<>();
    try (Stream<Path> s = Files.list(set)) {
      for (Path f : s.filter(f -> f.getFileName().toString().startsWith("kfd-bos-")).toList()) {
        for (KfdBoEntry bo : EntryImageCodec.read(f, ImageKind.PLUGIN, null)
            .parseAll(KfdBoEntry.parser())) {
          if (bo.getDomain() == BoDomain.VRAM) {
            out.add(bo.getGpuVa() ^ (long) bo.getHandle() << 48);
          }
        }
      }
    }
    assertTrue(!out.isEmpty(), "VRAM buffers in " + set);
    return out;
  }

  /**
   * Checks one set, restores it on a fresh node of the topology it was dumped on, runs it to
   * the end and compares the digest recorded next to it.
   */
  private static void restoreAndFinish(Path set, int formatVersion) throws IOException {
    String expected = Files.readString(set.resolve(TestImageSets.EXPECTED_DIGEST)).strip();
    ImageChecker.check(set, 2, dev.accr.plugin.PluginHost.of(Scenarios.registry().plugins()));
    ImageSet images = ImageSet.read(set);
    assertEquals(formatVersion, images.inventory().getFormatVersion(), "format version");
    assertEquals(TestImageSets.versions().get(formatVersion).toolVersion(),
        images.inventory().getToolVersion(), "the accr version versions.txt names");
    putBackOpenFiles(images, set);
    try (Node node = new Node("test-images", images.inventory().getSourceTopology(),
        Scenarios.registry())) {
      SimProcess p = Scenarios.restore(node, set);
      assertEquals(expected, Scenarios.finish(node, p), set.toString());
      assertEquals(0, node.memory().residentPages());
    }
  }

  /** Images hold no file contents (as in CRIU): put the saved files where the process had them. */
  private static void putBackOpenFiles(ImageSet images, Path set) throws IOException {
    for (FileEntry f : images.files().values()) {
      if (!f.hasReg()) {
        continue;
      }
      Path recorded = Path.of(f.getReg().getPath());
      Path saved = set.resolve(TestImageSets.FILES).resolve(recorded.getFileName());
      Files.createDirectories(recorded.getParent());
      Files.copy(saved, recorded, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}

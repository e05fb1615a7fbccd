package dev.accr.testimages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.ImageChecker;
import dev.accr.engine.ImageSet;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.FileEntry;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    String expected = Files.readString(set.resolve(TestImageSets.EXPECTED_DIGEST)).strip();
    ImageChecker.check(set, 2, dev.accr.plugin.PluginHost.of(Scenarios.registry().plugins()));
    ImageSet images = ImageSet.read(set);
    int formatVersion = Integer.parseInt(set.getParent().getFileName().toString().substring(1));
    assertEquals(formatVersion, images.inventory().getFormatVersion(), "format version");
    assertEquals(TestImageSets.versions().get(formatVersion).toolVersion(),
        images.inventory().getToolVersion(), "the accr version versions.txt names");
    putBackOpenFiles(images, set);
    try (Node node = new Node("test-images", images.inventory().getSourceTopology(),
        Scenarios.registry())) {
      SimProcess p = Scenarios.restore(node, set);
      assertEquals(expected, Scenarios.finish(node, p));
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

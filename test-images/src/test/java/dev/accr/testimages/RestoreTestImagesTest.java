package dev.accr.testimages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.ImageChecker;
import dev.accr.engine.ImageSet;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.FileEntry;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every checked-in image set restores and finishes with its recorded digest. */
class RestoreTestImagesTest {

  static List<Path> sets() throws IOException {
    return TestImageSets.all();
  }

  @Test
  void theCurrentFormatVersionHasImageSets() throws IOException {
    Path current = TestImageSets.currentVersionDir();
    assertTrue(Files.isDirectory(current), "no checked-in image sets for the current format"
        + " version at " + current + ": generate them (see test-images/README.md)");
    assertFalse(sets().stream().noneMatch(p -> p.startsWith(current)),
        "no image set under " + current);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sets")
  void restoresAndFinishesWithTheRecordedDigest(Path set) throws IOException {
    String expected = Files.readString(set.resolve(TestImageSets.EXPECTED_DIGEST)).strip();
    ImageChecker.check(set, 2);
    putBackOpenFiles(set);
    try (Node node = Scenarios.node("test-images")) {
      SimProcess p = Scenarios.restore(node, set);
      assertEquals(expected, Scenarios.finish(node, p));
      assertEquals(0, node.memory().residentPages());
    }
  }

  /** Images hold no file contents (as in CRIU): put the saved files where the process had them. */
  private static void putBackOpenFiles(Path set) throws IOException {
    for (FileEntry f : ImageSet.read(set).files().values()) {
      Path recorded = Path.of(f.getReg().getPath());
      Path saved = set.resolve(TestImageSets.FILES).resolve(recorded.getFileName());
      Files.createDirectories(recorded.getParent());
      Files.copy(saved, recorded, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}

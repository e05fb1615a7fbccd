package dev.accr.testimages;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.ImageChecker;
import dev.accr.image.ImageKind;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every file of every link of the current version's chains, damaged in turn (one bit flipped
 * in its middle, in a copy of the chain): checking the chain from its last link is exit code 3
 * with one line naming that file. The kfd chain's host files are of the kinds the counter
 * chain covers: only its plugin files are damaged.
 */
class DamagedChainsTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"counter-chain, ''", "kfd-serve-chain, kfd-"})
  void aDamagedFileOfAnyLinkIsExitThreeNamingIt(String name, String prefix) throws IOException {
    Path chain = tmp.resolve(name);
    for (Path link : TestImageSets.links(TestImageSets.currentVersionDir().resolve(name))) {
      ImageEdits.copy(link, chain.resolve(link.getFileName()));
    }
    List<Path> links = TestImageSets.links(chain);
    PluginHost plugins = PluginHost.of(Scenarios.registry().plugins());
    int damaged = 0;
    for (Path link : links) {
      for (Path file : images(link, prefix)) {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, ImageDamage.flipBit(bytes, bytes.length / 2, 5));
        String context = "damaged " + links.getFirst().getParent().relativize(file);
        AccrException e = ImageDamage.assertFails(AccrException.CORRUPT,
            file.getFileName().toString(), context,
            () -> ImageChecker.check(links.getLast(), 2, plugins));
        assertFalse(e.getMessage().contains("\n"), context + ": one line: " + e.getMessage());
        Files.write(file, bytes);
        damaged++;
      }
    }
    assertTrue(damaged > 3 * links.size(), damaged + " files damaged");
  }

  /** The image files of a link (not the digest and open files kept next to them). */
  private static List<Path> images(Path link, String prefix) throws IOException {
    try (Stream<Path> s = Files.list(link)) {
      return s.filter(f -> f.getFileName().toString().endsWith(".img")
          && f.getFileName().toString().startsWith(prefix)
          && !f.getFileName().toString().equals(ImageKind.STATS_RESTORE.fileName()))
          .sorted().toList();
    }
  }
}

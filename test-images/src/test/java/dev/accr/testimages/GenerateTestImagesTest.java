package dev.accr.testimages;

import dev.accr.engine.DumpOptions;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the image sets of the current format version into {@code sets/v<N>/}. Runs only when
 * asked: {@code ./build -pl test-images -am verify -Daccr.generateTestImages=true}.
 */
@EnabledIfSystemProperty(named = "accr.generateTestImages", matches = "true")
class GenerateTestImagesTest {
  /** Where the counter's output file lives; restoring the set recreates it there. */
  private static final Path OUTPUT_DIR = Path.of("/tmp/accr-test-images");

  @Test
  void generateCounter() throws IOException {
    Path set = TestImageSets.currentVersionDir().resolve("counter");
    if (Files.exists(set)) {
      throw new IllegalStateException(set + " exists: image sets of a released version are"
          + " never regenerated; delete it only if this version was never released");
    }
    Files.createDirectories(OUTPUT_DIR);
    Files.createDirectories(set.getParent());
    List<String> args = List.of("--mem-mib", "1", "--steps", "30", "--seed", "2026",
        "--pages-per-step", "4");
    Path output = OUTPUT_DIR.resolve("counter.out");
    try (Node node = Scenarios.node("generator")) {
      String digest = Scenarios.uninterrupted(node,
          "counter", concat(args, OUTPUT_DIR.resolve("uninterrupted.out")), OUTPUT_DIR);
      Files.deleteIfExists(output);
      SimProcess p = node.create("counter", concat(args, output), OUTPUT_DIR, 0);
      Scenarios.step(p, 12);
      Scenarios.dump(node, p, set, DumpOptions.defaults().withThreads(2)
          .withCompression(Compression.parse("zstd:3")));
      Files.writeString(set.resolve(TestImageSets.EXPECTED_DIGEST), digest + "\n");
      Files.createDirectories(set.resolve(TestImageSets.FILES));
      Files.copy(output, set.resolve(TestImageSets.FILES).resolve(output.getFileName()));
    }
  }

  private static List<String> concat(List<String> args, Path out) {
    return java.util.stream.Stream.concat(args.stream(), java.util.stream.Stream.of("--out",
        out.toString())).toList();
  }
}

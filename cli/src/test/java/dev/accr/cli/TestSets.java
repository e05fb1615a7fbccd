package dev.accr.cli;

import dev.accr.engine.DumpOptions;
import dev.accr.image.Compression;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Image sets dumped for tests: a counter, and a GPU process with every kind of kfd file. */
final class TestSets {
  /** The checked-in image sets (test-images/sets), for output checked against known sets. */
  static final Path CHECKED_IN = Path.of(System.getProperty("accr.testImages",
      "../test-images/sets")).toAbsolutePath();

  private TestSets() {}

  /** A kfd-train process on 2 GPUs dumped mid-run: every image kind is in the set. */
  static Path kfdTrain(Path dir, String compression) throws IOException {
    try (Node node = Scenarios.node("t", "mi100x2")) {
      SimProcess p = node.create("kfd-train", List.of("--gpus", "2", "--vram-kib", "512",
          "--steps", "6", "--gpu-us-per-wg", "20"), dir, 0);
      Scenarios.step(p, 3);
      Path set = dir.resolve("kfd-train-" + compression);
      Scenarios.dump(node, p, set, DumpOptions.defaults()
          .withCompression(Compression.parse(compression)));
      return set;
    }
  }
}

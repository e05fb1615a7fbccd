package dev.accr.testimages;

import dev.accr.image.ImageKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The layout of the checked-in sets: {@code sets/v<format version>/<workload>/} holds an
 * image set plus {@code expected-digest.txt} (the digest of an uninterrupted run) and
 * {@code files/} (the contents of the files the process had open, restored to their recorded
 * paths before restoring, since images do not hold file contents).
 */
final class TestImageSets {
  static final String EXPECTED_DIGEST = "expected-digest.txt";
  static final String FILES = "files";

  private TestImageSets() {}

  static Path root() {
    return Path.of(System.getProperty("accr.testImages", "sets")).toAbsolutePath();
  }

  static Path currentVersionDir() {
    return root().resolve("v" + ImageKind.VERSION_CURRENT);
  }

  /** Every checked-in set, of every format version. */
  static List<Path> all() throws IOException {
    try (Stream<Path> s = Files.walk(root(), 2)) {
      return s.filter(p -> Files.isRegularFile(p.resolve(EXPECTED_DIGEST))).sorted().toList();
    }
  }
}

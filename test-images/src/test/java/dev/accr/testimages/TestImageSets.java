package dev.accr.testimages;

import dev.accr.image.ImageKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The layout of the checked-in sets: {@code sets/v<format version>/<set>/} holds an image set
 * plus {@code expected-digest.txt} (the digest of an uninterrupted run) and {@code files/}
 * (the contents of the files the process had open, restored to their recorded paths before
 * restoring, since images do not hold file contents). {@code sets/versions.txt} lists, per
 * format version, the accr version that wrote its sets and their names. An incremental chain
 * is a folder of the same kind whose image sets are its links, {@code link-1/} (a full dump)
 * to {@code link-N/}; each restorable link holds its own {@code expected-digest.txt} and
 * {@code files/}.
 */
final class TestImageSets {
  static final String EXPECTED_DIGEST = "expected-digest.txt";
  static final String FILES = "files";
  static final String VERSIONS = "versions.txt";
  static final String LINK = "link-";

  /** One line of versions.txt. */
  record VersionLine(int formatVersion, String toolVersion, List<String> sets) {
    String format() {
      return formatVersion + " " + toolVersion + " " + String.join(" ", sets);
    }
  }

  private TestImageSets() {}

  static Path root() {
    return Path.of(System.getProperty("accr.testImages", "sets")).toAbsolutePath();
  }

  static Path versionDir(int formatVersion) {
    return root().resolve("v" + formatVersion);
  }

  static Path currentVersionDir() {
    return versionDir(ImageKind.VERSION_CURRENT);
  }

  /** Every checked-in set, of every format version. */
  static List<Path> all() throws IOException {
    try (Stream<Path> s = Files.walk(root(), 2)) {
      return s.filter(p -> Files.isRegularFile(p.resolve(EXPECTED_DIGEST))).sorted().toList();
    }
  }

  /** Whether {@code set} is an incremental chain rather than one image set. */
  static boolean isChain(Path set) {
    return Files.isDirectory(set.resolve(LINK + 1));
  }

  /** The links of a chain, oldest first. */
  static List<Path> links(Path chain) {
    List<Path> links = new ArrayList<>();
    for (int i = 1; Files.isDirectory(chain.resolve(LINK + i)); i++) {
      links.add(chain.resolve(LINK + i));
    }
    return links;
  }

  /** The set names found under one version's folder. */
  static List<String> setsOf(int formatVersion) throws IOException {
    Path dir = versionDir(formatVersion);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> Files.isRegularFile(p.resolve(EXPECTED_DIGEST)))
          .map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** versions.txt by format version; lines starting with '#' are comments. */
  static Map<Integer, VersionLine> versions() throws IOException {
    Map<Integer, VersionLine> out = new TreeMap<>();
    Path file = root().resolve(VERSIONS);
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file)) {
      String[] words = line.strip().split("\\s+");
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      if (words.length < 2) {
        throw new IllegalStateException(file + ": expected 'format-version tool-version set...'"
            + " in: " + line);
      }
      List<String> sets = new ArrayList<>(List.of(words).subList(2, words.length));
      out.put(Integer.parseInt(words[0]), new VersionLine(Integer.parseInt(words[0]), words[1],
          sets.stream().sorted().toList()));
    }
    return out;
  }

  static void writeVersions(Map<Integer, VersionLine> versions) throws IOException {
    StringBuilder text = new StringBuilder("# format-version accr-version sets...\n");
    for (VersionLine v : versions.values()) {
      text.append(v.format()).append('\n');
    }
    Files.writeString(root().resolve(VERSIONS), text);
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.RestoreRecords;
import dev.accr.image.CheckpointId;
import dev.accr.image.ImageKind;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.RestoreStatsEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr show FILE --json} then {@code accr encode} gives back the identical file. */
class EncodeCommandTest {
  @TempDir static Path tmp;
  static List<Path> files = new ArrayList<>();

  @BeforeAll
  static void dump() throws Exception {
    for (String compression : List.of("none", "zstd:3")) {
      try (Stream<Path> s = Files.list(TestSets.kfdTrain(tmp, compression))) {
        files.addAll(s.sorted().toList());
      }
    }
    // A process tree's shared objects (pipes.img, shmem.img), from the checked-in tree set.
    try (Stream<Path> s = Files.list(TestSets.CHECKED_IN.resolve("v5/pipe-chain"))) {
      files.addAll(s.filter(f -> f.getFileName().toString().endsWith(".img")).sorted().toList());
    }
    // A node writes stats-restore.img after a restore; one beside the sets covers its kind.
    Path restored = Files.createDirectories(tmp.resolve("restored"));
    files.add(RestoreRecords.writeStats(restored, CheckpointId.random(),
        RestoreStatsEntry.newBuilder().setPid(1000).setNode("b").setTotalTimeUs(1234)
            .setPagesRestored(56).addPhases(PhaseTimeEntry.newBuilder().setPhase("memory")
                .setTimeUs(789)).build()));
  }

  @Test
  void everyFileOfEveryKindRoundTripsToTheIdenticalBytes() throws Exception {
    Set<ImageKind> kinds = EnumSet.noneOf(ImageKind.class);
    for (Path file : files) {
      Path json = tmp.resolve("rt").resolve(file.getParent().getFileName() + "-"
          + file.getFileName() + ".json");
      Files.createDirectories(json.getParent());
      CliRun shown = accr("show", file.toString(), "--json");
      assertEquals(0, shown.code(), shown.err());
      Files.writeString(json, shown.out());
      Path back = json.resolveSibling(json.getFileName() + ".img");
      CliRun encoded = accr("encode", json.toString(), "-o", back.toString());
      assertEquals(0, encoded.code(), file + ": " + encoded.err());
      assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(back), file.toString());
      kinds.add(ImageKind.ofFileName(file.getFileName().toString()));
    }
    assertEquals(EnumSet.allOf(ImageKind.class), kinds, "the sets hold every image kind");
  }

  /** A number with a fraction (no image message has a floating-point field). */
  private static final Pattern FRACTION = Pattern.compile("[:\\[,]\\s*-?\\d+\\.\\d");
  /** protobuf's HTML-safe escapes, unless the backslash is itself escaped. */
  private static final Pattern HTML_ESCAPE = Pattern.compile("(?<!\\\\)\\\\u00(3d|3c|3e|26|27)");

  @Test
  void showJsonPrintsIntegersAsIntegersAndNoHtmlEscapes() {
    for (Path file : files) {
      String json = accr("show", file.toString(), "--json").out();
      assertFalse(FRACTION.matcher(json).find(), file + ":\n" + json);
      assertFalse(HTML_ESCAPE.matcher(json).find(), file + ":\n" + json);
      assertTrue(json.contains("\"version\": " + ImageKind.VERSION_CURRENT + ",\n"), json);
    }
    Path core = files.stream().filter(f -> f.getFileName().toString().startsWith("core-"))
        .findFirst().orElseThrow();
    String pid = core.getFileName().toString().replaceAll("\\D", "");
    assertTrue(accr("show", core.toString(), "--json").out().contains("\"pid\": " + pid + ",\n"));
    String set = accr("show", vramPages("none").getParent().toString(), "--json").out();
    assertFalse(FRACTION.matcher(set).find() || HTML_ESCAPE.matcher(set).find());
    // Padded base64 of chunk payloads is where protobuf's printer would write \u003d.
    assertTrue(Pattern.compile("\"payload\": \"[A-Za-z0-9+/]*=+\"").matcher(set).find());
  }

  /** A bulk file that surely has chunks (a pages-<n>.img file of an idle worker has none). */
  private static Path vramPages(String compression) {
    return files.stream().filter(f -> f.getParent().getFileName().toString().endsWith(compression)
        && f.getFileName().toString().matches("kfd-vram-p\\d+-\\d+\\.pages\\.img"))
        .findFirst().orElseThrow();
  }

  @Test
  void entriesOfAPluginThatIsNotInstalledRoundTripAsBytes() throws Exception {
    Path events = files.stream().filter(f -> f.getFileName().toString().startsWith("kfd-events-"))
        .findFirst().orElseThrow();
    Path foreign = tmp.resolve("foreign").resolve("npx-events-7.img");
    Files.createDirectories(foreign.getParent());
    Files.copy(events, foreign);
    CliRun shown = accr("show", foreign.toString(), "--json");
    assertEquals(0, shown.code(), shown.err());
    assertFalse(shown.out().contains("signalCount"), "no message type is known for npx");
    Path json = foreign.resolveSibling("npx.json");
    Files.writeString(json, shown.out());
    Path back = foreign.resolveSibling("back.img");
    assertEquals(0, accr("encode", json.toString(), "-o", back.toString()).code());
    assertArrayEquals(Files.readAllBytes(foreign), Files.readAllBytes(back));
  }

  @Test
  void jsonWithoutPayloadsIsRefusedForBulkFiles() throws Exception {
    Path pages = vramPages("none");
    CliRun shown = accr("show", pages.toString(), "--json", "--no-payload");
    assertFalse(shown.out().contains("\"payload\""), shown.out());
    Path json = tmp.resolve("no-payload.json");
    Files.writeString(json, shown.out());
    CliRun r = accr("encode", json.toString(), "-o", tmp.resolve("no-payload.img").toString());
    assertEquals(3, r.code(), r.err());
    assertTrue(r.err().contains("has no payload"), r.err());
  }

  @Test
  void badJsonIsExitThreeInOneLineAndWritesNothing() throws Exception {
    Path core = files.stream().filter(f -> f.getFileName().toString().startsWith("core-"))
        .findFirst().orElseThrow();
    String good = accr("show", core.toString(), "--json").out();
    Path zstdPages = vramPages("zstd:3");
    String pages = accr("show", zstdPages.toString(), "--json").out();
    int payloadAt = pages.indexOf("\"payload\": \"") + 12;
    List<String> hostile = List.of(
        good.substring(0, good.length() / 2),
        "[]",
        "\u0000\u0001",
        good.replace("\"kind\": \"core\"", "\"kind\": \"cor\\u0007e\""),
        good.replace("\"id\": \"", "\"id\": \"zz"),
        good.replace("\"entries\": [", "\"entries\": [17, "),
        good.replace("\"pid\": 1000", "\"pid\": -1"),
        good.replace("\"pid\": 1000", "\"pid\": 1000, \"noSuchField\": 1"),
        pages.substring(0, payloadAt + 16) + pages.substring(pages.indexOf('"', payloadAt)),
        pages.replace("\"codec\": \"zstd\"", "\"codec\": \"lz4\""),
        pages.replace("\"rawLength\": ", "\"rawLength\": 1"),
        pages.substring(0, payloadAt) + "!!!" + pages.substring(payloadAt + 3));
    for (int i = 0; i < hostile.size(); i++) {
      Path json = tmp.resolve("hostile-" + i + ".json");
      Files.writeString(json, hostile.get(i));
      Path out = tmp.resolve("hostile-" + i + ".img");
      CliRun r = accr("encode", json.toString(), "-o", out.toString());
      assertEquals(3, r.code(), "case " + i + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains(json.toString()), r.err());
      assertFalse(Files.exists(out), "case " + i);
    }
  }

  @Test
  void otherVersionsAreIncompatibleAndExistingFilesAreKept() throws Exception {
    Path core = files.stream().filter(f -> f.getFileName().toString().startsWith("core-"))
        .findFirst().orElseThrow();
    String good = accr("show", core.toString(), "--json").out();
    Path json = tmp.resolve("v2.json");
    Files.writeString(json, good.replace("\"version\": " + ImageKind.VERSION_CURRENT,
        "\"version\": " + (ImageKind.VERSION_CURRENT + 1)));
    CliRun r = accr("encode", json.toString(), "-o", tmp.resolve("v2.img").toString());
    assertEquals(4, r.code(), r.err());
    Files.writeString(json, good);
    CliRun exists = accr("encode", json.toString(), "-o", core.toString());
    assertEquals(1, exists.code(), exists.err());
    assertTrue(exists.err().contains("exists"), exists.err());
    CliRun usage = accr("encode", json.toString());
    assertEquals(2, usage.code(), usage.err());
  }
}

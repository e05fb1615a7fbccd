package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.accr.engine.DumpOptions;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Topologies;
import dev.accr.proto.Topology;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands that need no node, run in-process with captured output. */
class AccrCommandLineTest {
  @TempDir Path tmp;

  private Path dumpedSet() throws Exception {
    Node node = Scenarios.node("t");
    SimProcess p = node.create("counter", List.of("--mem-mib", "2", "--steps", "10",
        "--out", tmp.resolve("c.out").toString()), tmp, 0);
    Scenarios.step(p, 4);
    Path dir = tmp.resolve("set");
    Scenarios.dump(node, p, dir, DumpOptions.defaults());
    return dir;
  }

  @Test
  void versionNamesFormatAndApi() {
    CliRun r = accr("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("image format " + dev.accr.image.ImageKind.VERSION_CURRENT + " (reads "
        + dev.accr.image.ImageKind.VERSION_START + " to " + dev.accr.image.ImageKind.VERSION_CURRENT
        + ")")
        && r.out().contains("plugin API " + dev.accr.api.AccrPlugin.API_VERSION), r.out());
  }

  @Test
  void topologyShowJsonIsTheFileFormAndReadsBack() throws Exception {
    CliRun r = accr("topology", "show", "cpu-2numa", "--json");
    assertEquals(0, r.code(), r.err());
    Path file = tmp.resolve("t.json");
    Files.writeString(file, r.out());
    Topologies topologies = Scenarios.registry().topologies();
    assertEquals(topologies.load("cpu-2numa"), topologies.load(file.toString()));
    Topology.Builder b = Topology.newBuilder();
    JsonFormat.parser().merge(r.out(), b);
    assertTrue(r.out().contains("\"memoryBytes\": \"137438953472\""), r.out());
  }

  @Test
  void unknownTopologyIsAUsageErrorAndListsPresets() {
    CliRun r = accr("topology", "show", "mi999");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("cpu-only"), r.err());
  }

  @Test
  void showDecodesEveryFileOfASetAsTextAndJson() throws Exception {
    Path set = dumpedSet();
    CliRun text = accr("show", set.toString());
    assertEquals(0, text.code(), text.err());
    for (String expected : List.of("InventoryEntry", "PstreeEntry", "CoreEntry", "MmEntry",
        "PagemapHead", "PageChunkEntry", "PageChunkRecord", "FileEntry", "DumpStatsEntry",
        "exe: \"counter\"", "name: \"[heap]\"")) {
      assertTrue(text.out().contains(expected), "show lists " + expected);
    }
    CliRun json = accr("show", set.resolve("mm-1000.img").toString(), "--json");
    assertEquals(0, json.code(), json.err());
    assertTrue(json.out().contains("\"kind\": \"mm\"") && json.out().contains("\"vmas\""),
        json.out());
    CliRun all = accr("show", set.toString(), "--json");
    com.google.protobuf.ListValue.Builder files = com.google.protobuf.ListValue.newBuilder();
    JsonFormat.parser().merge(all.out(), files);
    try (var listing = Files.list(set)) {
      assertEquals(listing.count(), files.getValuesCount(), "one JSON object per file of the set");
    }
  }

  @Test
  void checkPassesOnAGoodSetAndFailsWithExit3OnAFlippedBit() throws Exception {
    Path set = dumpedSet();
    CliRun ok = accr("check", set.toString());
    assertEquals(0, ok.code(), ok.err());
    assertTrue(ok.out().contains("OK"), ok.out());
    Path pages = set.resolve("pages-1.img");
    byte[] bytes = Files.readAllBytes(pages);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(pages, bytes);
    CliRun bad = accr("check", set.toString());
    assertEquals(3, bad.code());
    assertTrue(bad.err().startsWith("accr: ") && bad.err().contains("pages-1.img"), bad.err());
    assertEquals(1, bad.err().strip().lines().count(), bad.err());
  }

  @Test
  void pluginsListsTheCounterWorkloadAndPresets() {
    CliRun r = accr("plugins");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("counter") && r.out().contains("cpu-only"), r.out());
  }

  @Test
  void usageErrorsExitWith2() {
    assertEquals(2, accr("dump", "-t", "1").code());
    assertEquals(2, accr("dump", "-t", "1", "-D", "x", "--compress", "lz4").code());
    assertEquals(2, accr("no-such-command").code());
  }

  @Test
  void topologyMapChecksPluginOptionsAgainstTheInstalledPlugins() throws Exception {
    Path set = dumpedSet();
    CliRun r = accr("topology", "map", "-D", set.toString(), "--to", "cpu-only", "--plugin-opt",
        "foo.bar=1");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("no plugin 'foo' is installed (installed: ")
        && r.err().contains("kfd"), r.err());
    r = accr("topology", "map", "-D", set.toString(), "--to", "cpu-only", "--plugin-opt",
        "kfd.nonsense=3");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("plugin kfd has no option 'nonsense'"), r.err());
    r = accr("topology", "map", "-D", set.toString(), "--to", "cpu-only");
    assertEquals(0, r.code(), r.err());
  }
}

package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.accr.engine.DumpOptions;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.ImageDamage;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code accr show} and {@code accr check} on an image set of a GPU process. */
class ShowKfdTest {
  @TempDir static Path tmp;
  static Path set;
  static int pid;

  @BeforeAll
  static void dump() throws Exception {
    try (Node node = Scenarios.node("t", "mi100x2")) {
      SimProcess p = node.create("kfd-train", List.of("--gpus", "2", "--steps", "6",
          "--gpu-us-per-wg", "20"), tmp, 0);
      Scenarios.step(p, 3);
      pid = p.pid();
      set = tmp.resolve("set");
      Scenarios.dump(node, p, set, DumpOptions.defaults());
    }
  }

  @Test
  void showListsDevicesBuffersQueuesEventsAndSvmRangesAsText() {
    CliRun r = accr("show", set.toString());
    assertEquals(0, r.code(), r.err());
    for (String expected : List.of("KfdDeviceEntry {", "gfx_target_version: 90008",
        "KfdBoEntry {", "domain: VRAM", "domain: GTT", "domain: DOORBELL", "KfdQueueEntry {",
        "type: SDMA", "ring_slots: 64", "KfdEventEntry {", "KfdSvmRangeEntry {",
        "preferred_location:", "residency {", "PluginChunkEntry {", "plugin: \"kfd\"")) {
      assertTrue(r.out().contains(expected), "missing " + expected);
    }
  }

  @Test
  void showJsonOfTheSetNamesEveryKfdFileWithStructuredEntries() throws Exception {
    CliRun r = accr("show", set.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    ListValue.Builder files = ListValue.newBuilder();
    JsonFormat.parser().merge(r.out(), files);
    Set<String> names = new TreeSet<>();
    for (Value f : files.getValuesList()) {
      names.add(f.getStructValue().getFieldsOrThrow("file").getStringValue());
    }
    for (String what : List.of("process", "devices", "bos", "queues", "events", "svm")) {
      assertTrue(names.contains("kfd-" + what + "-" + pid + ".img"), names.toString());
    }
    CliRun bos = accr("show", set.resolve("kfd-bos-" + pid + ".img").toString(), "--json");
    assertTrue(bos.out().contains("\"domain\": \"VRAM\"") && bos.out().contains("\"gpuVa\""),
        bos.out());
  }

  @Test
  void damagedKfdImageIsExitThreeInOneLine() throws Exception {
    for (String what : List.of("queues", "svm", "bos")) {
      Path copy = tmp.resolve("damaged-" + what);
      Files.createDirectories(copy);
      Path file = set.resolve("kfd-" + what + "-" + pid + ".img");
      byte[] bytes = Files.readAllBytes(file);
      Files.write(copy.resolve(file.getFileName()), ImageDamage.flipBit(bytes, bytes.length / 2, 3));
      CliRun r = accr("show", copy.resolve(file.getFileName()).toString());
      assertEquals(3, r.code(), r.err());
      assertTrue(r.err().contains(file.getFileName().toString()), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      Files.write(copy.resolve(file.getFileName()), ImageDamage.truncate(bytes, bytes.length - 9));
      CliRun t = accr("show", copy.resolve(file.getFileName()).toString());
      assertEquals(3, t.code(), t.err());
    }
  }

  @Test
  void checkVerifiesTheKfdFilesAndFindsDamagedVram() throws Exception {
    CliRun ok = accr("check", set.toString());
    assertEquals(0, ok.code(), ok.err());
    assertFalse(ok.out().isBlank());
    Path copy = tmp.resolve("damaged-vram");
    Files.createDirectories(copy);
    String damaged = null;
    try (var files = Files.list(set)) {
      for (Path f : files.toList()) {
        byte[] bytes = Files.readAllBytes(f);
        if (damaged == null && f.getFileName().toString().endsWith(".pages.img")
            && f.getFileName().toString().startsWith("kfd-vram-")) {
          damaged = f.getFileName().toString();
          bytes = ImageDamage.flipBit(bytes, bytes.length / 2, 1);
        }
        Files.write(copy.resolve(f.getFileName()), bytes);
      }
    }
    CliRun bad = accr("check", copy.toString());
    assertEquals(3, bad.code(), bad.err());
    assertTrue(bad.err().contains(damaged), bad.err());
  }
}

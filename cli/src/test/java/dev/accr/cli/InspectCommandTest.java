package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.ImageSet;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PluginReportSummary;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.VmaSummary;
import dev.accr.testkit.ImageDamage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code accr inspect} on the checked-in sets: the whole output against the expected one,
 * and the per-VMA figures and the plugins' device figures against the set's own totals.
 */
class InspectCommandTest {
  @TempDir Path tmp;

  static String known(String name) throws IOException {
    try (InputStream in = InspectCommandTest.class.getResourceAsStream("/known/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static Path set(String name) {
    return TestSets.CHECKED_IN.resolve("v1").resolve(name);
  }

  @ParameterizedTest
  @ValueSource(strings = {"counter", "kfd-train", "kfd-halo", "npu-infer"})
  void textOfAKnownSetIsTheExpectedOneInFull(String name) throws IOException {
    CliRun r = accr("inspect", set(name).toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(known("inspect-" + name + ".txt"), r.out());
  }

  @Test
  void jsonOfAKnownSetIsTheExpectedOneInFull() throws IOException {
    CliRun r = accr("inspect", set("counter").toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(known("inspect-counter.json"), r.out());
  }

  @Test
  void jsonOfAnNpuSetHoldsTheNpuReportInFull() throws IOException {
    CliRun r = accr("inspect", set("npu-infer").toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(known("inspect-npu-infer.json"), r.out());
  }

  @Test
  void aPluginOfTheSetThatIsNotInstalledIsNamedInsteadOfSilentlyLeftOut() throws IOException {
    SetSummaries.Inspection without = SetSummaries.of(set("npu-infer"), java.util.List.of());
    assertEquals(java.util.List.of("npu"), without.summary().getPluginsNotInstalledList());
    assertTrue(without.reports().isEmpty());
    assertTrue(SummaryText.of(without).contains(
        "npu: plugin not installed here; its files are not summarised"), "text");
    SetSummaries.Inspection with = SetSummaries.of(set("npu-infer"),
        dev.accr.kernel.Registry.load(java.util.List.of()).plugins());
    assertTrue(with.summary().getPluginsNotInstalledList().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"counter", "kfd-train", "kfd-train-later", "kfd-halo", "npu-infer",
      "mixed-pipeline"})
  void perVmaFiguresAddUpToTheSetsTotals(String name) throws IOException {
    SetSummary s = SetSummaries.of(set(name), dev.accr.kernel.Registry.load(java.util.List.of()).plugins()).summary();
    long resident = 0;
    long stored = 0;
    long zero = 0;
    boolean zeroKnown = true;
    int vmas = 0;
    for (ProcessSummary p : s.getProcessesList()) {
      for (VmaSummary v : p.getVmasList()) {
        vmas++;
        resident += v.getResidentPages();
        stored += v.getStoredBytes();
        zeroKnown &= v.hasZeroPages() || v.getKind().equals("device");
        zero += v.getZeroPages();
        assertTrue(v.getResidentPages() + v.getZeroPages() <= v.getPages(), v.toString());
      }
    }
    assertTrue(s.getProcessesCount() > 0 && resident > 0);
    assertEquals(s.getStats().getPagesWritten(), resident);
    long chunks = ImageSet.read(set(name)).processes().values().stream()
        .flatMap(p -> p.chunks().stream()).mapToLong(PageChunkEntry::getStoredLength).sum();
    assertEquals(chunks, stored, vmas,
        "stored bytes of the VMAs (each rounded) add up to the stored bytes of the chunks");
    if (zeroKnown) {
      assertEquals(s.getStats().getPagesSkippedZero(), zero);
    }
    List<String> reports = s.getReportsList().stream().map(PluginReportSummary::getPlugin)
        .toList();
    assertEquals(s.getPluginsList(), reports, "every plugin of the set reports on its files");
  }

  @Test
  void damagedOrMissingSetsAreExitThreeInOneLine() throws IOException {
    Path copy = tmp.resolve("damaged");
    Files.createDirectories(copy);
    try (var files = Files.list(set("kfd-halo"))) {
      for (Path f : files.toList()) {
        if (Files.isRegularFile(f)) {
          byte[] bytes = Files.readAllBytes(f);
          boolean bos = f.getFileName().toString().startsWith("kfd-bos-");
          Files.write(copy.resolve(f.getFileName()), bos
              ? ImageDamage.flipBit(bytes, bytes.length / 2, 2) : bytes);
        }
      }
    }
    for (List<String> args : List.of(List.of("inspect", copy.toString()),
        List.of("inspect", tmp.resolve("nothing").toString()),
        List.of("diff", set("kfd-halo").toString(), copy.toString()),
        List.of("diff", set("counter").toString(), tmp.resolve("nothing").toString()))) {
      CliRun r = accr(args.toArray(String[]::new));
      assertEquals(3, r.code(), args + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertFalse(r.out().contains("checkpoint"), r.out());
    }
  }

  @Test
  void htmlOfAnNpuSetHasTheNpuSectionInFullAndLabelledNpus() throws IOException {
    Path html = tmp.resolve("npu.html");
    CliRun r = accr("inspect", set("npu-infer").toString(), "--html", html.toString());
    assertEquals(0, r.code(), r.err());
    String page = Files.readString(html);
    int from = page.indexOf("<h2 class=\"plugin\" id=\"plugin-npu\">");
    int to = page.indexOf("<h2>Topology", from);
    assertTrue(from >= 0 && to > from, page);
    assertEquals(known("inspect-npu-infer.html-section"), page.substring(from, to));
    for (int id = 0x11171; id <= 0x11174; id++) {
      assertTrue(page.contains(">npu 0x" + Integer.toHexString(id) + " nx2 16 GiB"
          + (id == 0x11171 ? " (used)" : "") + "</text>"), "topology picture labels npu " + id);
    }
  }

  @Test
  void htmlPageIsWrittenWithTheSummary() throws IOException {
    Path html = tmp.resolve("counter.html");
    CliRun r = accr("inspect", set("counter").toString(), "--html", html.toString());
    assertEquals(0, r.code(), r.err());
    String page = Files.readString(html);
    assertTrue(page.contains(SummaryHtml.esc(known("inspect-counter.txt"))), "the text summary");
    assertTrue(page.contains("<svg") && page.contains("data-tip="), "pictures");
    assertFalse(page.contains("src=\"http") || page.contains("href=\"http"), "self-contained");
  }
}

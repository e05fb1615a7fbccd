package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.PluginImages;
import dev.accr.api.PluginOption;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportChart;
import dev.accr.engine.ImageSet;
import dev.accr.kfd.driver.KfdDeviceType;
import dev.accr.kfd.proto.KfdBoChange;
import dev.accr.kfd.proto.KfdBoSummary;
import dev.accr.kfd.proto.KfdDeviceSummary;
import dev.accr.kfd.proto.KfdDiff;
import dev.accr.kfd.proto.KfdImportSummary;
import dev.accr.kfd.proto.KfdSharedBufferSummary;
import dev.accr.kfd.proto.KfdSummary;
import dev.accr.kfd.proto.KfdSvmRangeSummary;
import dev.accr.plugin.SetImages;
import dev.accr.proto.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The kfd plugin's presentation: labels, options, and its reports on the checked-in sets. */
class KfdReportsTest {
  private static final Path SETS = Path.of(System.getProperty("accr.testImages",
      "../../test-images/sets")).toAbsolutePath();
  private final KfdPlugin plugin = new KfdPlugin();

  private static PluginImages images(String set) throws IOException {
    Path dir = SETS.resolve(set);
    return SetImages.reader("kfd", dir, ImageSet.read(dir).id());
  }

  @Test
  void labelNamesTheIsaAndTheMemory() {
    Device d = Device.newBuilder().setType("kfd").setGpuId(0x73d3).setGfxTargetVersion(90010)
        .setCuCount(104).setVramBytes(64L << 30).setVramVisibleBytes(256L << 20)
        .setSdmaEngines(2).setNumaNode(1).setDrmRenderMinor(129).build();
    var label = new KfdDeviceType().label(d);
    assertEquals(0x73d3, label.id());
    assertEquals("gfx90a 64 GiB", label.model());
    assertEquals("gfx90a (90010), 104 CUs, 64 GiB VRAM (256 MiB visible), 2 SDMA, numa 1,"
        + " renderD129", label.details());
    assertTrue(new KfdDeviceType().deviceFields().containsAll(
        new KfdDeviceType().requiredDeviceFields()));
  }

  @Test
  void optionsAreDeclaredWithTheirDefaultsAndRanges() {
    PluginOption copy = plugin.options().stream().filter(o -> o.name().equals("vram-copy"))
        .findFirst().orElseThrow();
    assertEquals("dma", copy.defaultValue());
    assertEquals("dma|cpu|auto", copy.range());
    PluginOption staging = plugin.options().stream()
        .filter(o -> o.name().equals("staging-mib")).findFirst().orElseThrow();
    assertEquals("64", staging.defaultValue());
    assertEquals(null, staging.check("4"));
    assertTrue(staging.check("3") != null && staging.check("65537") != null);
  }

  @Test
  void sharedBuffersNameTheirExporterAndImporters() throws IOException {
    PluginReport r = plugin.summarize(images("v5/kfd-ddp"));
    KfdSummary s = (KfdSummary) r.details();
    assertEquals(4, s.getSharedBuffersCount(), s.toString()); // each worker's gradients
    Set<Integer> exporters = new java.util.TreeSet<>();
    for (KfdSharedBufferSummary b : s.getSharedBuffersList()) {
      exporters.add(b.getExporterPid());
      assertEquals(1, b.getImportersCount(), b.toString()); // its partner, rank xor 1
      KfdImportSummary i = b.getImportersList().getFirst();
      assertTrue(i.getPid() != b.getExporterPid() && i.getOverXgmi(), b.toString());
      assertTrue(i.getPhysicalGpuId() != b.getPhysicalGpuId() && b.getPhysicalGpuId() != 0,
          b.toString());
      // The exporter's device list has the buffer, with the size the summary gives.
      KfdBoSummary exported = s.getDevicesList().stream()
          .filter(d -> d.getPid() == b.getExporterPid() && d.getGpuId() == b.getGpuId())
          .flatMap(d -> d.getBosList().stream())
          .filter(bo -> bo.getHandle() == b.getExporterHandle()).findFirst().orElseThrow();
      assertEquals(exported.getSize(), b.getSize());
      assertEquals(exported.getGpuVa(), b.getGpuVa());
      // Its importer is an exporter too: the pairs import each other's buffers.
      assertTrue(s.getSharedBuffersList().stream()
          .anyMatch(o -> o.getExporterPid() == i.getPid()), s.toString());
    }
    assertEquals(4, exporters.size());
    var table = r.tables().stream().filter(t -> t.title().startsWith("shared buffers"))
        .findFirst().orElseThrow();
    assertEquals(4, table.rows().size());
    assertTrue(table.rows().getFirst().getLast().contains(", xgmi)"), table.rows().toString());
  }

  @Test
  void aLoneProcessHasNoSharedBuffersTable() throws IOException {
    PluginReport r = plugin.summarize(images("v5/kfd-train"));
    assertEquals(0, ((KfdSummary) r.details()).getSharedBuffersCount());
    assertTrue(r.tables().stream().noneMatch(t -> t.title().startsWith("shared buffers")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1/kfd-train", "v1/kfd-halo", "v2/kfd-train", "v2/mixed-pipeline"})
  void deviceFiguresAddUp(String set) throws IOException {
    PluginReport r = plugin.summarize(images(set));
    KfdSummary s = (KfdSummary) r.details();
    assertTrue(s.getDevicesCount() > 0);
    long saved = 0;
    for (KfdDeviceSummary d : s.getDevicesList()) {
      long bos = d.getBosList().stream().mapToLong(KfdBoSummary::getSavedBytes).sum();
      long svm = s.getSvmRangesList().stream().flatMap(x -> x.getPagesList().stream())
          .filter(p -> p.getLocation() == d.getGpuId()).mapToLong(p -> p.getPages() * 4096)
          .sum();
      assertEquals(d.getSavedBytes(), bos + svm, "gpu " + d.getGpuId()
          + ": VRAM saved is its VRAM BOs plus the SVM pages that lived on it");
      saved += d.getSavedBytes();
    }
    assertEquals(saved, r.deviceBytes());
    assertEquals(s.getStoredBytes(), r.deviceStoredBytes());
    for (KfdSvmRangeSummary x : s.getSvmRangesList()) {
      assertEquals(x.getSize() / 4096, x.getPagesList().stream().mapToLong(p -> p.getPages())
          .sum());
    }
    assertEquals(1 + 2 * s.getDevicesCount() + (s.getSvmRangesCount() > 0 ? 1 : 0),
        r.tables().size(), "gpus, each gpu's buffer objects and queues, svm ranges");
  }

  @Test
  void usedGpusAreThoseWithBuffersOrQueuesAndEachGetsAChartOfItsBuffers() throws IOException {
    PluginReport r = plugin.summarize(images("v1/kfd-halo"));
    assertEquals(Set.of(0x73d3, 0xbbfd), r.usedDevices(), "two of the four gpus were used");
    KfdSummary s = (KfdSummary) r.details();
    List<KfdDeviceSummary> withBos = s.getDevicesList().stream()
        .filter(d -> d.getBosCount() > 0).toList();
    assertEquals(withBos.size(), r.charts().size(), "a chart per gpu with buffer objects");
    for (int i = 0; i < withBos.size(); i++) {
      KfdDeviceSummary d = withBos.get(i);
      ReportChart chart = r.charts().get(i);
      assertTrue(chart.title().contains("gpu 0x" + Integer.toHexString(d.getGpuId())),
          chart.title());
      assertEquals(List.of("VRAM", "GTT", "other"), chart.legend());
      assertEquals(d.getBosCount(), chart.bars().size());
      for (int j = 0; j < d.getBosCount(); j++) {
        KfdBoSummary b = d.getBos(j);
        ReportChart.Bar bar = chart.bars().get(j);
        assertEquals(b.getSize(), bar.size());
        assertEquals(b.getSavedBytes(), bar.filled());
        assertEquals(switch (b.getDomain()) {
          case "VRAM" -> 0;
          case "GTT" -> 1;
          default -> 2;
        }, bar.category(), b.toString());
        assertTrue(bar.tip().startsWith("bo " + b.getHandle() + " " + b.getDomain() + " at 0x"
            + Long.toHexString(b.getGpuVa()) + ", "), bar.tip());
      }
    }
    assertTrue(r.charts().stream().flatMap(c -> c.bars().stream())
        .anyMatch(b -> b.filled() > 0 && b.category() == 0), "saved VRAM buffers");
  }

  @Test
  void aSetWithoutGpusHasNoReport() throws IOException {
    assertNull(plugin.summarize(images("v1/counter")));
    assertNull(plugin.diff(images("v1/counter"), images("v1/npu-infer")));
  }

  @Test
  void diffFindsTheVramPagesTrainingChanged() throws IOException {
    KfdDiff d = (KfdDiff) plugin.diff(images("v1/kfd-train"), images("v1/kfd-train-later"))
        .details();
    assertTrue(d.getBosList().stream().anyMatch(b -> b.getPages().getChanged() > 0));
    KfdDiff same = (KfdDiff) plugin.diff(images("v1/kfd-train-later"),
        images("v1/kfd-train-later")).details();
    List<KfdBoChange> bos = same.getBosList();
    assertTrue(bos.stream().anyMatch(b -> b.getPages().getSame() > 0));
    for (KfdBoChange b : bos) {
      assertEquals(0, b.getPages().getChanged() + b.getPages().getAdded()
          + b.getPages().getRemoved(), b.toString());
    }
  }
}

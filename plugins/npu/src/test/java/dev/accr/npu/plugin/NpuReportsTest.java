package dev.accr.npu.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportChart;
import dev.accr.engine.ImageSet;
import dev.accr.npu.driver.NpuDeviceType;
import dev.accr.npu.proto.NpuDescriptorChange;
import dev.accr.npu.proto.NpuDiff;
import dev.accr.npu.proto.NpuSummary;
import dev.accr.plugin.SetImages;
import dev.accr.proto.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The npu plugin's presentation: labels, options, and its reports on the checked-in sets. */
class NpuReportsTest {
  private static final Path SETS = Path.of(System.getProperty("accr.testImages",
      "../../test-images/sets")).toAbsolutePath();
  private final NpuPlugin plugin = new NpuPlugin();

  private static PluginImages images(String set) throws IOException {
    Path dir = SETS.resolve(set);
    return SetImages.reader("npu", dir, ImageSet.read(dir).id());
  }

  @Test
  void labelShowsIdChipMemoryCoresAndFirmware() {
    var label = new NpuDeviceType().label(Device.newBuilder().setType("npu").setNpuId(70001)
        .setNpuChip("nx2").setNpuMemoryBytes(16L << 30).setNpuCores(8).setNpuFwVersion(12)
        .build());
    assertEquals(70001, label.id());
    assertEquals("nx2 16 GiB", label.model());
    assertEquals("nx2, 16 GiB memory, 8 cores, firmware 12", label.details());
  }

  @Test
  void lockTimeoutIsDeclared() {
    var option = plugin.options().getFirst();
    assertEquals("lock-timeout-ms", option.name());
    assertEquals("10000", option.defaultValue());
    assertEquals("0 is outside 1..3600000", option.check("0"));
  }

  @Test
  void summaryListsEachDescriptorWithItsDevice() throws IOException {
    PluginReport r = plugin.summarize(images("v1/npu-infer"));
    NpuSummary s = (NpuSummary) r.details();
    assertEquals(1, s.getDescriptorsCount());
    assertEquals(70001, s.getDescriptors(0).getNpuId());
    assertEquals("nx2", s.getDescriptors(0).getChip());
    assertEquals(List.of("1000", "0", "0x11171", "nx2", "16 GiB", "8", "12"),
        r.tables().getFirst().rows().getFirst().subList(0, 7));
    assertNull(plugin.summarize(images("v1/kfd-train")));
  }

  @Test
  void theDescriptorsNpuIsUsedAndItsMemoryChartedWithWhatWasAllocated() throws IOException {
    PluginReport r = plugin.summarize(images("v1/npu-infer"));
    assertEquals(Set.of(0x11171), r.usedDevices());
    ReportChart.Bar bar = r.charts().getFirst().bars().getFirst();
    assertEquals(16L << 30, bar.size());
    assertEquals(((NpuSummary) r.details()).getDescriptors(0).getAllocatedBytes(), bar.filled());
    assertTrue(bar.label().contains("0x11171") && bar.tip().contains("0x7e0000000000"),
        bar.toString());
  }

  @Test
  void diffNamesTheChangedValues() throws IOException {
    NpuDiff d = (NpuDiff) plugin.diff(images("v1/npu-infer"), images("v2/npu-infer"))
        .details();
    NpuDescriptorChange c = d.getDescriptors(0);
    assertEquals("changed", c.getStatus());
    assertEquals(List.of("drained_jobs 0 -> 5"), c.getChangesList());
    NpuDiff same = (NpuDiff) plugin.diff(images("v1/npu-infer"), images("v1/npu-infer"))
        .details();
    assertEquals(0, same.getDescriptorsCount());
    NpuDiff gone = (NpuDiff) plugin.diff(images("v1/npu-infer"), images("v1/counter"))
        .details();
    assertEquals("removed", gone.getDescriptors(0).getStatus());
  }
}

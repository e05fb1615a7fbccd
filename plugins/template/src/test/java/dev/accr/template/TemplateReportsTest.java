package dev.accr.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Struct;
import dev.accr.api.DeviceLabel;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.proto.Device;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The template's presentation: its topology label, inspect summary and diff. */
class TemplateReportsTest {
  private final TemplatePlugin plugin = new TemplatePlugin();

  private static MemoryImages withRegisters(long pid, long... registers) {
    MemoryImages images = new MemoryImages();
    images.writeEntries(TemplateReports.REGS, pid,
        LongStream.of(registers).mapToObj(Int64Value::of).toList());
    return images;
  }

  @Test
  void labelNamesTheDeviceFileAndItsRegisters() {
    assertEquals(new DeviceLabel(0, "8 registers", "/dev/tmpl0, 8 registers"),
        new TemplateDeviceType().label(Device.newBuilder().setType("tmpl").setNode(1).build()));
  }

  @Test
  void summaryShowsTheRegistersOfEachProcess() {
    PluginReport r = plugin.summarize(withRegisters(1000, 0, 9, 2, 3, 4, 5, 6, 7));
    ReportTable t = r.tables().getFirst();
    assertEquals(List.of("pid", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"), t.columns());
    assertEquals(List.of(List.of("1000", "0", "9", "2", "3", "4", "5", "6", "7")), t.rows());
    Struct processes = ((Struct) r.details()).getFieldsOrThrow("registers").getStructValue();
    assertEquals("9", processes.getFieldsOrThrow("1000").getListValue().getValues(1)
        .getStringValue());
    assertEquals(0, r.deviceBytes());
    assertTrue(r.usedDevices().isEmpty() && r.charts().isEmpty(),
        "its device has no id to outline and its registers no sizes to chart");
  }

  @Test
  void diffListsTheRegistersThatChanged() {
    PluginReport r = plugin.diff(withRegisters(1000, 0, 1, 2, 3, 4, 5, 6, 7),
        withRegisters(1000, 0, 1, 12, 3, 4, 5, 6, 17));
    assertEquals(List.of(List.of("1000", "r2", "2", "12"), List.of("1000", "r7", "7", "17")),
        r.tables().getFirst().rows());
    assertEquals(2, ((Struct) r.details()).getFieldsOrThrow("changed").getListValue()
        .getValuesCount());
  }

  @Test
  void setsWithoutTemplateFilesHaveNoReport() {
    assertNull(plugin.summarize(new MemoryImages()));
    assertNull(plugin.diff(new MemoryImages(), new MemoryImages()));
  }
}

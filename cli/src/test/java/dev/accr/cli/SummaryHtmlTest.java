package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.StringValue;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.proto.CpuNode;
import dev.accr.proto.Device;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.Topology;
import dev.accr.proto.VmaSummary;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Text taken from images or given by plugins cannot break out of the page. */
class SummaryHtmlTest {
  private static final String HOSTILE = "</pre><script>alert(1)</script>\"' onload=\"x";

  @Test
  void textFromImagesIsEscapedEverywhere() {
    SetSummary s = SetSummary.newBuilder().setSourceNode(HOSTILE)
        .setTopology(Topology.newBuilder().setName(HOSTILE)
            .addCpus(CpuNode.newBuilder().setNode(0).setCores(1))
            .addDevices(Device.newBuilder().setType(HOSTILE).setNode(1)))
        .addProcesses(ProcessSummary.newBuilder().setPid(7).setExe(HOSTILE).addArgv(HOSTILE)
            .addVmas(VmaSummary.newBuilder().setStart(4096).setEnd(8192).setPages(1)
                .setName(HOSTILE).setKind("anon").setProt("rw-")))
        .build();
    PluginReport report = new PluginReport(StringValue.of(HOSTILE), List.of(new ReportTable(
        HOSTILE, List.of(HOSTILE), List.of(List.of(HOSTILE)))));
    DeviceLabels labels = new DeviceLabels(type -> new DeviceType() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public DeviceDriver attach(NodeContext node, List<Device> d) {
        throw new UnsupportedOperationException();
      }

      @Override
      public DeviceLabel label(Device device) {
        return new DeviceLabel(7, HOSTILE, HOSTILE);
      }
    });
    String page = SummaryHtml.of(new SetSummaries.Inspection(s,
        List.of(new PluginReports.Named(HOSTILE, report))), HOSTILE, labels);
    assertFalse(page.contains("<script>alert"), page);
    assertFalse(page.contains("\"' onload"), page);
    assertTrue(page.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"));
    assertTrue(page.contains("<td>&lt;/pre&gt;"), "a plugin's table cell, escaped");
    assertTrue(page.contains("0x7 &lt;/pre&gt;"), "a device label, escaped");
    assertEquals(2, page.split("<script>", -1).length, "only the page's own script");
  }
}

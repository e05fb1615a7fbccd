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
import dev.accr.api.ReportChart;
import dev.accr.api.ReportTable;
import dev.accr.kernel.Registry;
import dev.accr.proto.CpuNode;
import dev.accr.proto.Device;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.Topology;
import dev.accr.proto.VmaSummary;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The HTML page of {@code accr inspect}: text taken from images or given by plugins cannot
 * break out of it, the plugins' charts show every bar's size on one scale, and the devices the
 * processes used are outlined in the topology.
 */
class SummaryHtmlTest {
  private static final String HOSTILE = "</pre><script>alert(1)</script>\"' onload=\"x";
  private static final String ESCAPED = "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
      + "&quot;&#39; onload=&quot;x";
  /** A light (whole) bar, then optionally its darker part, then its size as text. */
  private static final Pattern BAR = Pattern.compile("<rect class=\"bar\" x=\"[\\d.]+\""
      + " y=\"[\\d.]+\" width=\"([\\d.]+)\" height=\"\\d+\" fill=\"(#[0-9a-f]{6})\""
      + " fill-opacity=\"0.35\" data-tip=\"([^\"]*)\"/>\n"
      + "(?:<rect class=\"bar\" [^>]*fill-opacity=\"1.00\"[^>]*/>\n)?"
      + "<text [^>]*>([^<]*)</text>");
  private static final Pattern AXIS = Pattern.compile("<line x1=\"(\\d+)\" y1=\"\\d+\""
      + " x2=\"([\\d.]+)\" y2=\"\\d+\" stroke=\"#555\"/>");

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
    ReportChart chart = new ReportChart(HOSTILE, List.of(HOSTILE), HOSTILE,
        List.of(new ReportChart.Bar(HOSTILE, 4096, 1024, 0, HOSTILE)));
    PluginReport report = new PluginReport(StringValue.of(HOSTILE), List.of(new ReportTable(
        HOSTILE, List.of(HOSTILE), List.of(List.of(HOSTILE)))), List.of(chart), Set.of(7), 0,
        0);
    String page = SummaryHtml.of(new SetSummaries.Inspection(s,
        List.of(new PluginReports.Named(HOSTILE, report))), HOSTILE, labels(7));
    assertFalse(page.contains("<script>alert"), page);
    assertFalse(page.contains("\"' onload"), page);
    assertTrue(page.contains(ESCAPED));
    assertTrue(page.contains("<td>" + ESCAPED), "a plugin's table cell, escaped");
    assertTrue(page.contains("0x7 " + ESCAPED), "a device label, escaped");
    assertTrue(page.contains("<h3>" + ESCAPED + "</h3>"), "a chart's title, escaped");
    assertTrue(page.contains("</span>" + ESCAPED + " &#8212; darker: " + ESCAPED),
        "a chart's legend, escaped");
    assertTrue(page.contains(">" + ESCAPED + "</text>"), "a bar's label, escaped");
    assertTrue(page.contains("data-tip=\"" + ESCAPED + "\""), "a bar's tip, escaped");
    assertTrue(page.contains(">4096 B (" + ESCAPED + " 1024 B)</text>"), "a bar's size");
    assertTrue(page.contains(ESCAPED + " (used)</text>"), "the used device, labelled");
    assertEquals(2, page.split("<script>", -1).length, "only the page's own script");
  }

  @Test
  void kfdBuffersAreBarsOnOneScaleWithTheirSizesWrittenAndUsedGpusOutlined()
      throws IOException {
    SetSummaries.Inspection inspection = inspect("kfd-halo");
    String page = SummaryHtml.of(inspection, "kfd-halo", DeviceLabels.of(registry()));
    List<ReportChart> charts = inspection.reports().getFirst().report().charts();
    assertEquals(2, charts.size(), "the two gpus with buffer objects");
    for (ReportChart chart : charts) {
      checkChart(page, chart);
    }
    String gpu = chart(page, "sizes of the buffer objects of gpu 0x73d3 (pid 1000)");
    assertTrue(gpu.contains(">bo 10 VRAM</text>") && gpu.contains(">8192 B (saved 8192 B)</text>"),
        "a small saved VRAM buffer next to 256 KiB ones still says its size");
    assertTrue(gpu.contains(">bo 4 DOORBELL</text>") && gpu.contains(">4096 B</text>"),
        "the doorbell saved nothing");
    assertTrue(gpu.contains(">256.0 KiB (saved 256.0 KiB)</text>"));
    assertTrue(gpu.contains("data-tip=\"bo 3 GTT at 0x1100000000, 16.0 KiB, saved 0 B,"
        + " stored 0 B\""), gpu);
    assertTrue(gpu.contains("text-anchor=\"middle\">256.0 KiB</text>"), "the axis ends at"
        + " the largest buffer");
    checkUsed(page, "kfd", Set.of("0x73d3", "0xbbfd"), Set.of("0x43e8", "0xebfc"));
    assertFalse(page.contains("id=\"shapes\""), "no count of shapes on the page");
    assertTrue(page.contains("setAttribute('data-ready'"), "the page still says it is ready");
  }

  @Test
  void hostMemoryIsOneLinearScaleWithEveryVmasSizeWritten() throws IOException {
    SetSummaries.Inspection inspection = inspect("counter");
    String page = SummaryHtml.of(inspection, "counter", DeviceLabels.of(registry()));
    ProcessSummary p = inspection.summary().getProcesses(0);
    String svg = page.substring(page.indexOf("<svg", page.indexOf("<h3>process ")),
        page.indexOf("</svg>", page.indexOf("<h3>process ")));
    Matcher axis = AXIS.matcher(svg);
    assertTrue(axis.find(), svg);
    double room = Double.parseDouble(axis.group(2)) - Integer.parseInt(axis.group(1));
    long max = p.getVmasList().stream().mapToLong(VmaSummary::getPages).max().orElseThrow();
    assertTrue(p.getVmasCount() >= 2 && p.getVmasList().stream()
        .anyMatch(v -> v.getPages() * 100 < max), "a small VMA beside a large one");
    Matcher bar = Pattern.compile("<rect x=\"8.0\" y=\"[\\d.]+\" width=\"([\\d.]+)\""
        + " height=\"14.0\" fill=\"#e8f0fe\"").matcher(svg);
    for (VmaSummary v : p.getVmasList()) {
      assertTrue(bar.find(), svg);
      assertEquals(Math.max(1, room * v.getPages() / max), Double.parseDouble(bar.group(1)),
          0.06, v.toString());
      String name = v.getName().isEmpty() ? v.getPath() : v.getName();
      assertTrue(svg.contains(">" + SummaryText.hex(v.getStart()) + " " + v.getProt() + " "
          + SummaryHtml.esc(name) + ": " + dev.accr.api.Sizes.bytes(v.getPages() * 4096)
          + " (stored " + dev.accr.api.Sizes.bytes(v.getResidentPages() * 4096)), v + svg);
    }
    assertTrue(svg.contains("text-anchor=\"middle\">" + dev.accr.api.Sizes.bytes(0) + "</text>"),
        "the axis starts at 0");
  }

  @Test
  void npuMemoryIsABarWithWhatWasAllocatedAndTheUsedNpuIsOutlined() throws IOException {
    SetSummaries.Inspection inspection = inspect("npu-infer");
    String page = SummaryHtml.of(inspection, "npu-infer", DeviceLabels.of(registry()));
    ReportChart chart = inspection.reports().getFirst().report().charts().getFirst();
    checkChart(page, chart);
    assertTrue(chart(page, chart.title()).contains(">16.0 GiB (allocated 1.0 MiB)</text>"));
    checkUsed(page, "npu", Set.of("0x11171"), Set.of("0x11172", "0x11173", "0x11174"));
  }

  /**
   * The chart's bars are drawn in order, each in the colour of its category, as wide as its
   * size on the chart's one linear scale (a size too small to see is still 1 pixel), its size
   * written beside it.
   */
  private static void checkChart(String page, ReportChart chart) {
    String svg = chart(page, chart.title());
    Matcher axis = AXIS.matcher(svg);
    assertTrue(axis.find(), svg);
    double room = Double.parseDouble(axis.group(2)) - Integer.parseInt(axis.group(1));
    long max = chart.bars().stream().mapToLong(ReportChart.Bar::size).max().orElseThrow();
    Matcher m = BAR.matcher(svg);
    for (ReportChart.Bar bar : chart.bars()) {
      assertTrue(m.find(), "bar " + bar.label() + " in " + svg);
      double width = Double.parseDouble(m.group(1));
      assertEquals(bar.size() == 0 ? 0 : Math.max(1, room * bar.size() / max), width, 0.06,
          bar.toString());
      assertEquals(ChartHtml.PALETTE.get(bar.category()), m.group(2), bar.toString());
      assertEquals(SummaryHtml.esc(bar.tip()), m.group(3));
      assertEquals(dev.accr.api.Sizes.bytes(bar.size()) + (bar.filled() > 0 ? " ("
          + chart.filledPart() + " " + dev.accr.api.Sizes.bytes(bar.filled()) + ")" : ""), m.group(4));
      assertTrue(svg.contains(">" + SummaryHtml.esc(bar.label()) + "</text>"), bar.label());
    }
    assertFalse(m.find(), "no more bars than the chart has");
  }

  /** The SVG drawn under a chart's title. */
  private static String chart(String page, String title) {
    int at = page.indexOf("<h3>" + SummaryHtml.esc(title) + "</h3>");
    assertTrue(at >= 0, "no chart " + title);
    return page.substring(page.indexOf("<svg", at), page.indexOf("</svg>", at));
  }

  /** Devices of the topology picture: the used ones outlined and labelled, the others not. */
  private static void checkUsed(String page, String type, Set<String> used, Set<String> unused) {
    String topology = page.substring(page.indexOf("<h2>Topology"));
    Matcher outlined = Pattern.compile("<circle [^>]*class=\"used\" stroke=\"#000\"[^>]*"
        + "data-tip=\"node \\d+: " + type + " (0x[0-9a-f]+) ").matcher(topology);
    List<String> ids = new ArrayList<>();
    while (outlined.find()) {
      ids.add(outlined.group(1));
    }
    assertEquals(used, Set.copyOf(ids), topology);
    assertEquals(used.size(), ids.size());
    for (String id : used) {
      assertTrue(Pattern.compile(">" + type + " " + id + " [^<]* \\(used\\)</text>")
          .matcher(topology).find(), id + " labelled used");
    }
    for (String id : unused) {
      assertTrue(Pattern.compile(">" + type + " " + id + " [^<(]*</text>").matcher(topology)
          .find(), id + " not labelled used");
    }
  }

  private static SetSummaries.Inspection inspect(String set) throws IOException {
    return SetSummaries.of(InspectCommandTest.set(set), registry().plugins());
  }

  private static Registry registry() {
    return Registry.load(List.of());
  }

  private static DeviceLabels labels(int id) {
    return new DeviceLabels(type -> new DeviceType() {
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
        return new DeviceLabel(id, HOSTILE, HOSTILE);
      }
    });
  }
}

package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.api.DeviceLabel;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.LinkType;
import dev.accr.proto.ProcessSummary;
import dev.accr.proto.SetSummary;
import dev.accr.proto.Topology;
import dev.accr.proto.VmaSummary;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code accr inspect --html}: one self-contained page (no external files) with SVG pictures
 * of each process's memory map and of the topology (devices labelled by their types, those
 * the processes used outlined), a section per plugin with the charts and tables of its report,
 * and the text summary. A short script adds
 * tooltips and marks the page ready; every text taken from the images or a plugin is escaped.
 */
final class SummaryHtml {
  private static final int WIDTH = 900;
  private static final long PAGE = 4096;
  private static final int VMA_BAR = 14;
  /** Room right of the longest VMA bar for its address, name and sizes. */
  private static final int VMA_TEXT_ROOM = 440;
  private static final String STYLE = """
      body{font:14px sans-serif;margin:24px;color:#222}
      pre{background:#f6f6f6;padding:12px;overflow:auto;font-size:12px}
      h2{margin-top:28px} svg{border:1px solid #ddd;background:#fff}
      table{border-collapse:collapse;font-size:12px}
      th,td{border:1px solid #ddd;padding:2px 8px;text-align:left}
      .legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
      #tip{position:fixed;background:#333;color:#fff;padding:4px 8px;font-size:12px;display:none}
      """;
  private static final String SCRIPT = """
      window.addEventListener('error', function (e) {
        document.body.setAttribute('data-script-error', String(e.message));
      });
      document.addEventListener('DOMContentLoaded', function () {
        var tip = document.getElementById('tip');
        document.querySelectorAll('[data-tip]').forEach(function (el) {
          el.addEventListener('mousemove', function (e) {
            tip.textContent = el.getAttribute('data-tip');
            tip.style.left = (e.clientX + 12) + 'px';
            tip.style.top = (e.clientY + 12) + 'px';
            tip.style.display = 'block';
          });
          el.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
        });
        var shapes = document.querySelectorAll('svg [data-tip]').length;
        document.body.setAttribute('data-ready', String(shapes));
      });
      """;

  private SummaryHtml() {}

  static String of(SetSummaries.Inspection inspection, String title, DeviceLabels labels) {
    SetSummary s = inspection.summary();
    StringBuilder out = new StringBuilder();
    out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>accr inspect ")
        .append(esc(title)).append("</title>\n<style>").append(STYLE).append("</style>\n<script>")
        .append(SCRIPT).append("</script></head>\n<body>\n<h1>accr inspect: ")
        .append(esc(title)).append("</h1>\n<div id=\"tip\"></div>\n");
    out.append("<h2>Host memory</h2>\n<p class=\"legend\">")
        .append("<span style=\"background:#2e7d32\"></span>stored")
        .append("<span style=\"background:#bbb\"></span>zero")
        .append("<span style=\"background:#e8f0fe\"></span>never touched")
        .append("<span style=\"background:#8e24aa\"></span>device mapping")
        .append(" &#8212; one linear scale per process, sizes beside the bars</p>\n");
    for (ProcessSummary p : s.getProcessesList()) {
      if (p.getZombie()) {
        continue;
      }
      out.append("<h3>process ").append(p.getPid()).append(' ').append(esc(p.getExe()))
          .append(p.getPpid() == 0 ? "" : " (child of " + p.getPpid() + ")")
          .append("</h3>\n").append(memory(p));
    }
    out.append(PluginReports.html(inspection.reports()));
    out.append("<h2>Topology ").append(esc(s.getTopology().getName())).append("</h2>\n")
        .append(topology(s, labels, used(inspection.reports())))
        .append("\n<h2>Summary</h2>\n<pre>")
        .append(esc(SummaryText.of(inspection))).append("</pre>\n</body></html>\n");
    return out.toString();
  }

  /**
   * One row per VMA on one linear scale, with an axis below: each bar as long as the VMA, its
   * stored and zero pages in colour, its address, name and sizes written beside it (a VMA too
   * small to see is still a pixel wide and still says how big it is).
   */
  private static String memory(ProcessSummary p) {
    List<VmaSummary> vmas = p.getVmasList();
    long maxPages = Math.max(1, vmas.stream().mapToLong(VmaSummary::getPages).max().orElse(1));
    int left = 8;
    int top = 6;
    int row = 20;
    double room = WIDTH - left - VMA_TEXT_ROOM;
    int axisY = top + row * vmas.size() + 2;
    StringBuilder svg = svgStart(WIDTH, axisY + 30);
    int y = top;
    for (VmaSummary v : vmas) {
      double w = v.getPages() == 0 ? 0 : Math.max(1, room * v.getPages() / maxPages);
      String name = v.getName().isEmpty() ? v.getPath() : v.getName();
      String tip = String.format(Locale.ROOT, "%s-%s %s %s: %d pages, %d stored, %s zero, %s",
          SummaryText.hex(v.getStart()), SummaryText.hex(v.getEnd()), v.getProt(), name,
          v.getPages(), v.getResidentPages(), v.hasZeroPages() ? v.getZeroPages() : "?",
          Sizes.bytes(v.getStoredBytes()));
      boolean device = v.getKind().equals("device");
      rect(svg, left, y, w, VMA_BAR, device ? "#8e24aa" : "#e8f0fe", tip);
      String sizes = Sizes.bytes(v.getPages() * PAGE);
      if (!device && v.getPages() > 0) {
        double stored = w * v.getResidentPages() / v.getPages();
        double zero = w * (v.hasZeroPages() ? v.getZeroPages() : 0) / v.getPages();
        rect(svg, left, y, stored, VMA_BAR, "#2e7d32", tip);
        rect(svg, left + stored, y, zero, VMA_BAR, "#bbb", tip);
        sizes += " (stored " + Sizes.bytes(v.getResidentPages() * PAGE)
            + (v.hasZeroPages() && v.getZeroPages() > 0
                ? ", zero " + Sizes.bytes(v.getZeroPages() * PAGE) : "") + ")";
      }
      text(svg, left + w + 6, y + 11, SummaryText.hex(v.getStart()) + " " + v.getProt() + " "
          + name + ": " + sizes);
      y += row;
    }
    ChartHtml.axis(svg, left, room, axisY, maxPages * PAGE);
    return svg.append("</svg>\n").toString();
  }

  /** The devices the plugins say the set's processes used, by label id. */
  private static Set<Integer> used(List<PluginReports.Named> reports) {
    Set<Integer> out = new HashSet<>();
    reports.forEach(n -> out.addAll(n.report().usedDevices()));
    return out;
  }

  /**
   * Topology nodes on a circle, links as lines; each device labelled by its type, and those
   * the processes used outlined.
   */
  private static String topology(SetSummary s, DeviceLabels labels, Set<Integer> used) {
    Topology t = s.getTopology();
    int size = 420;
    StringBuilder svg = svgStart(size + 260, size);
    Map<Integer, double[]> at = new HashMap<>();
    int n = t.getCpusCount() + t.getDevicesCount();
    int i = 0;
    for (int node : nodes(t)) {
      double a = 2 * Math.PI * i++ / Math.max(1, n) - Math.PI / 2;
      at.put(node, new double[] {size / 2.0 + 150 * Math.cos(a), size / 2.0 + 150 * Math.sin(a)});
    }
    for (Link l : t.getLinksList()) {
      double[] a = at.get(l.getFrom());
      double[] b = at.get(l.getTo());
      if (a != null && b != null) {
        svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\""
            + " y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%d\" data-tip=\"%s\"/>%n", a[0], a[1],
            b[0], b[1], l.getType() == LinkType.XGMI ? "#c62828" : "#1e88e5",
            l.getType() == LinkType.XGMI ? 3 : 1, esc(l.getType() + " " + l.getFrom() + " - "
                + l.getTo() + ", weight " + l.getWeight())));
      }
    }
    for (var cpu : t.getCpusList()) {
      circle(svg, at.get(cpu.getNode()), "#9e9e9e", false, "cpu node " + cpu.getNode() + ", "
          + cpu.getCores() + " cores, " + Sizes.bytes(cpu.getMemoryBytes()));
      text(svg, at.get(cpu.getNode())[0] + 24, at.get(cpu.getNode())[1] + 4,
          "cpu " + cpu.getNode());
    }
    for (Device d : t.getDevicesList()) {
      DeviceLabel label = labels.label(d);
      boolean isUsed = label.id() != 0 && used.contains(label.id());
      circle(svg, at.get(d.getNode()), "#1565c0", isUsed, "node " + d.getNode() + ": "
          + labels.line(d) + (isUsed ? ", used" : ""));
      text(svg, at.get(d.getNode())[0] + 24, at.get(d.getNode())[1] + 4, labels.name(d)
          + (label.model().isEmpty() ? "" : " " + label.model()) + (isUsed ? " (used)" : ""));
    }
    text(svg, 8, size - 12, "red: XGMI, blue: PCIe; outlined: devices the processes used");
    return svg.append("</svg>\n").toString();
  }

  private static List<Integer> nodes(Topology t) {
    return java.util.stream.Stream.concat(t.getCpusList().stream().map(c -> c.getNode()),
        t.getDevicesList().stream().map(Device::getNode)).toList();
  }

  static StringBuilder svgStart(int width, int height) {
    return new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\""
        + " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n", width, height, width, height));
  }

  private static void rect(StringBuilder svg, double x, double y, double w, double h,
      String fill, String tip) {
    svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
        + " height=\"%.1f\" fill=\"%s\" data-tip=\"%s\"/>%n", x, y, Math.max(0, w), h, fill,
        esc(tip)));
  }

  private static void circle(StringBuilder svg, double[] at, String fill, boolean outlined,
      String tip) {
    svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"18\" fill=\"%s\"%s"
        + " data-tip=\"%s\"/>%n", at[0], at[1], fill,
        outlined ? " class=\"used\" stroke=\"#000\" stroke-width=\"4\"" : "", esc(tip)));
  }

  static void text(StringBuilder svg, double x, double y, String text) {
    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>%n",
        x, y, esc(text)));
  }

  /** Escapes text for HTML content and attribute values. */
  static String esc(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c < 0x20 && c != '\n' ? ' ' : c);
      }
    }
    return out.toString();
  }
}

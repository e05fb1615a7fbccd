package dev.accr.cli;

import com.google.protobuf.Any;
import com.google.protobuf.TypeRegistry;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import dev.accr.image.CheckpointId;
import dev.accr.plugin.SetImages;
import dev.accr.proto.PluginReportSummary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What the installed plugins say about image sets ({@link AccrPlugin#summarize},
 * {@link AccrPlugin#diff}), and how the core prints it without knowing its fields: the tables
 * as text or HTML, the plugin's message as JSON.
 */
final class PluginReports {
  /** One plugin's report. */
  record Named(String plugin, PluginReport report) {}

  private PluginReports() {}

  /** Every installed plugin's summary of the set, in plugin name order. */
  static List<Named> summarize(List<AccrPlugin> plugins, Path dir, CheckpointId id) {
    List<Named> out = new ArrayList<>();
    for (AccrPlugin p : byName(plugins)) {
      PluginReport r = p.summarize(SetImages.reader(p.name(), dir, id));
      if (r != null) {
        out.add(new Named(p.name(), r));
      }
    }
    return out;
  }

  /** Every installed plugin's comparison of two sets, in plugin name order. */
  static List<Named> diff(List<AccrPlugin> plugins, Path fromDir, CheckpointId fromId,
      Path toDir, CheckpointId toId) {
    List<Named> out = new ArrayList<>();
    for (AccrPlugin p : byName(plugins)) {
      PluginImages from = SetImages.reader(p.name(), fromDir, fromId);
      PluginImages to = SetImages.reader(p.name(), toDir, toId);
      PluginReport r = p.diff(from, to);
      if (r != null) {
        out.add(new Named(p.name(), r));
      }
    }
    return out;
  }

  private static List<AccrPlugin> byName(List<AccrPlugin> plugins) {
    return plugins.stream().sorted(Comparator.comparing(AccrPlugin::name)).toList();
  }

  static List<PluginReportSummary> toProto(List<Named> reports) {
    return reports.stream().map(n -> PluginReportSummary.newBuilder().setPlugin(n.plugin())
        .setDetails(Any.pack(n.report().details())).build()).toList();
  }

  /** The message types of the reports, so that JSON prints their details as objects. */
  static TypeRegistry types(List<Named> reports) {
    TypeRegistry.Builder types = TypeRegistry.newBuilder();
    reports.forEach(n -> types.add(n.report().details().getDescriptorForType()));
    return types.build();
  }

  /** Each table under a {@code plugin: title} heading, as aligned columns. */
  static String text(List<Named> reports) {
    StringBuilder out = new StringBuilder();
    for (Named n : reports) {
      for (ReportTable t : n.report().tables()) {
        out.append('\n').append(n.plugin()).append(": ").append(t.title()).append('\n');
        if (t.rows().isEmpty()) {
          out.append("  none\n");
          continue;
        }
        TextTable table = new TextTable("  ", t.columns().toArray(String[]::new));
        t.rows().forEach(row -> table.row(row.toArray()));
        out.append(table);
      }
    }
    return out.toString();
  }

  /** One section per plugin with its charts, then its tables; every text escaped. */
  static String html(List<Named> reports) {
    StringBuilder out = new StringBuilder();
    for (Named n : reports) {
      out.append("<h2 class=\"plugin\" id=\"plugin-").append(SummaryHtml.esc(n.plugin()))
          .append("\">").append(SummaryHtml.esc(n.plugin())).append("</h2>\n");
      n.report().charts().forEach(c -> out.append(ChartHtml.of(c)));
      for (ReportTable t : n.report().tables()) {
        out.append("<h3>").append(SummaryHtml.esc(t.title())).append("</h3>\n");
        if (t.rows().isEmpty()) {
          out.append("<p>none</p>\n");
          continue;
        }
        out.append("<table>\n<tr>");
        t.columns().forEach(c -> out.append("<th>").append(SummaryHtml.esc(c)).append("</th>"));
        out.append("</tr>\n");
        for (List<String> row : t.rows()) {
          out.append("<tr>");
          row.forEach(c -> out.append("<td>").append(SummaryHtml.esc(c)).append("</td>"));
          out.append("</tr>\n");
        }
        out.append("</table>\n");
      }
    }
    return out.toString();
  }
}

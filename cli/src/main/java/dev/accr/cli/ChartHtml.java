package dev.accr.cli;

import dev.accr.api.Sizes;
import static dev.accr.cli.SummaryHtml.esc;

import dev.accr.api.ReportChart;
import java.util.List;
import java.util.Locale;

/**
 * A plugin's {@link ReportChart} on the HTML page: a legend of its categories, then one
 * horizontal bar per row on one linear scale with an axis below. Each bar's size (and its
 * darker part, when there is one) is written beside it, so that a bar too small to see still
 * says how big it is.
 */
final class ChartHtml {
  /** One colour per category index; {@link ReportChart#MAX_CATEGORIES} long. */
  static final List<String> PALETTE = List.of("#1565c0", "#ef6c00", "#777777", "#2e7d32",
      "#8e24aa", "#c62828");
  private static final int WIDTH = 900;
  private static final int ROW = 20;
  private static final int BAR = 14;
  private static final int TOP = 6;
  private static final int AXIS = 30;
  /** Room right of the longest bar for its size. */
  private static final int SIZE_ROOM = 180;

  private ChartHtml() {}

  static String of(ReportChart chart) {
    StringBuilder out = new StringBuilder("<h3>").append(esc(chart.title())).append("</h3>\n");
    if (chart.bars().isEmpty()) {
      return out.append("<p>none</p>\n").toString();
    }
    out.append("<p class=\"legend\">");
    for (int i = 0; i < chart.legend().size(); i++) {
      out.append("<span style=\"background:").append(PALETTE.get(i)).append("\"></span>")
          .append(esc(chart.legend().get(i)));
    }
    out.append(" &#8212; darker: ").append(esc(chart.filledPart()))
        .append("; one linear scale</p>\n");
    return out.append(bars(chart)).toString();
  }

  private static String bars(ReportChart chart) {
    List<ReportChart.Bar> bars = chart.bars();
    long max = Math.max(1, bars.stream().mapToLong(ReportChart.Bar::size).max().orElse(1));
    int longestLabel = bars.stream().mapToInt(b -> b.label().length()).max().orElse(0);
    int left = Math.clamp(12 + Math.round(longestLabel * 6.5f), 80, 320);
    double room = WIDTH - left - SIZE_ROOM;
    int axisY = TOP + ROW * bars.size() + 2;
    StringBuilder svg = SummaryHtml.svgStart(WIDTH, axisY + AXIS);
    int y = TOP;
    for (ReportChart.Bar b : bars) {
      String colour = PALETTE.get(b.category());
      double w = b.size() == 0 ? 0 : Math.max(1, room * b.size() / max);
      SummaryHtml.text(svg, 8, y + 11, b.label());
      bar(svg, left, y, w, colour, 0.35, b.tip());
      if (b.filled() > 0) {
        bar(svg, left, y, Math.max(1, room * b.filled() / max), colour, 1, b.tip());
      }
      SummaryHtml.text(svg, left + w + 6, y + 11, Sizes.bytes(b.size())
          + (b.filled() > 0 ? " (" + chart.filledPart() + " " + Sizes.bytes(b.filled())
              + ")" : ""));
      y += ROW;
    }
    axis(svg, left, room, axisY, max);
    return svg.append("</svg>\n").toString();
  }

  /** The scale: a line under the bars with ticks at round binary sizes. */
  static void axis(StringBuilder svg, int left, double room, int y, long max) {
    svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\""
        + " stroke=\"#555\"/>%n", left, y, left + room, y));
    long step = Math.max(1, Long.highestOneBit(max) / 4);
    for (long tick = 0; tick <= max; tick += step) {
      double x = left + room * tick / max;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\""
          + " y2=\"%d\" stroke=\"#555\"/>%n<text x=\"%.1f\" y=\"%d\" font-size=\"10\""
          + " text-anchor=\"middle\">%s</text>%n", x, y, x, y + 4, x, y + 16,
          esc(Sizes.bytes(tick))));
    }
  }

  private static void bar(StringBuilder svg, double x, double y, double w, String colour,
      double opacity, String tip) {
    svg.append(String.format(Locale.ROOT, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\""
        + " width=\"%.1f\" height=\"%d\" fill=\"%s\" fill-opacity=\"%.2f\" data-tip=\"%s\"/>%n",
        x, y, w, BAR, colour, opacity, esc(tip)));
  }
}

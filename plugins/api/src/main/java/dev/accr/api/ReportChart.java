package dev.accr.api;

import java.util.List;

/**
 * A picture of a {@link PluginReport} (API version 4): bars of byte sizes, one per row, on one
 * linear scale, for the HTML page of {@code accr inspect}. The core draws each bar with its size
 * printed beside it, colours it by its category and darkens the part the plugin fills (e.g. what
 * was saved); it escapes every text and knows nothing of what the bars are.
 *
 * @param title what the bars are, e.g. {@code buffer objects of gpu 0x73d3}
 * @param legend the name of each category, by index, e.g. {@code VRAM, GTT, other}; at most
 *     {@link #MAX_CATEGORIES}, each drawn in its own colour
 * @param filledPart what the darker part of a bar is, e.g. {@code saved}
 * @param bars the bars, top to bottom
 */
public record ReportChart(String title, List<String> legend, String filledPart,
    List<ReportChart.Bar> bars) {
  /** How many categories (colours) a chart can tell apart. */
  public static final int MAX_CATEGORIES = 6;

  public ReportChart {
    legend = List.copyOf(legend);
    bars = List.copyOf(bars);
    if (legend.isEmpty() || legend.size() > MAX_CATEGORIES) {
      throw new IllegalArgumentException(title + ": a legend of 1 to " + MAX_CATEGORIES
          + " categories, not " + legend.size());
    }
    for (Bar b : bars) {
      if (b.category() >= legend.size()) {
        throw new IllegalArgumentException(title + ": bar " + b.label() + " has category "
            + b.category() + " of " + legend.size());
      }
    }
  }

  /**
   * One bar.
   *
   * @param label a few words shown left of the bar, e.g. {@code bo 8 VRAM}
   * @param size its length in bytes, printed beside it
   * @param filled the darker part in bytes, at most {@code size}; printed when not 0
   * @param category index into the chart's legend, which picks the colour
   * @param tip details shown when the pointer is on the bar
   */
  public record Bar(String label, long size, long filled, int category, String tip) {
    public Bar {
      if (size < 0 || filled < 0 || filled > size || category < 0) {
        throw new IllegalArgumentException("bar " + label + ": size " + size + ", filled "
            + filled + ", category " + category);
      }
      label = label == null ? "" : label;
      tip = tip == null ? "" : tip;
    }
  }
}

package dev.accr.api;

import java.util.List;

/**
 * A table of a {@link PluginReport}: the core prints it as aligned text columns and as an
 * HTML table, escaping every cell. Cells are plain text; ids are best given in hex.
 *
 * @param title what the rows are, e.g. {@code buffer objects of gpu 0x73d3}
 * @param columns column headings
 * @param rows rows of exactly {@code columns.size()} cells
 */
public record ReportTable(String title, List<String> columns, List<List<String>> rows) {
  public ReportTable {
    columns = List.copyOf(columns);
    rows = rows.stream().map(List::copyOf).toList();
    for (List<String> row : rows) {
      if (row.size() != columns.size()) {
        throw new IllegalArgumentException(title + ": a row has " + row.size() + " cells for "
            + columns.size() + " columns");
      }
    }
  }
}

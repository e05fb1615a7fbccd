package dev.accr.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: columns as wide as their widest cell, numbers aligned right. */
final class TextTable {
  private final List<String[]> rows = new ArrayList<>();
  private final String indent;

  TextTable(String indent, String... header) {
    this.indent = indent;
    rows.add(header);
  }

  TextTable row(Object... cells) {
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      r[i] = String.valueOf(cells[i]);
    }
    rows.add(r);
    return this;
  }

  boolean isEmpty() {
    return rows.size() == 1;
  }

  @Override
  public String toString() {
    int columns = rows.getFirst().length;
    int[] width = new int[columns];
    boolean[] numeric = new boolean[columns];
    java.util.Arrays.fill(numeric, rows.size() > 1);
    for (int r = 0; r < rows.size(); r++) {
      for (int c = 0; c < columns; c++) {
        width[c] = Math.max(width[c], rows.get(r)[c].length());
        if (r > 0 && !rows.get(r)[c].matches("-?[0-9][0-9.,]*|-")) {
          numeric[c] = false;
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder(indent);
      for (int c = 0; c < columns; c++) {
        String cell = row[c];
        String pad = " ".repeat(width[c] - cell.length());
        line.append(numeric[c] ? pad + cell : cell + (c == columns - 1 ? "" : pad));
        if (c < columns - 1) {
          line.append("  ");
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }
}

package dev.accr.template;

import com.google.protobuf.Int64Value;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ReportTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code accr inspect} and {@code accr diff} show of the template's files: the registers
 * of each process. A report is a message for {@code --json} and tables for text and HTML; a
 * real plugin defines its own messages, the template builds a {@link Struct} to stay small
 * (registers as decimal strings, as protobuf's JSON writes 64-bit integers).
 */
final class TemplateReports {
  static final String REGS = "regs";

  private TemplateReports() {}

  /** The registers of every process of the set; null if the set has no template files. */
  static PluginReport summarize(PluginImages images) {
    Map<Long, List<Long>> registers = read(images);
    if (registers.isEmpty()) {
      return null;
    }
    Struct.Builder processes = Struct.newBuilder();
    List<List<String>> rows = new ArrayList<>();
    registers.forEach((pid, regs) -> {
      ListValue.Builder values = ListValue.newBuilder();
      List<String> row = new ArrayList<>(List.of(String.valueOf(pid)));
      for (long r : regs) {
        values.addValues(Value.newBuilder().setStringValue(Long.toString(r)));
        row.add(Long.toString(r));
      }
      processes.putFields(String.valueOf(pid), Value.newBuilder().setListValue(values).build());
      rows.add(row);
    });
    List<String> columns = new ArrayList<>(List.of("pid"));
    for (int i = 0; i < TemplateDevice.REGISTERS; i++) {
      columns.add("r" + i);
    }
    return new PluginReport(Struct.newBuilder().putFields("registers",
        Value.newBuilder().setStructValue(processes).build()).build(),
        List.of(new ReportTable("registers of " + TemplateDeviceType.PATH, columns, rows)));
  }

  /** The registers that changed, per process; null if neither set has template files. */
  static PluginReport diff(PluginImages from, PluginImages to) {
    Map<Long, List<Long>> a = read(from);
    Map<Long, List<Long>> b = read(to);
    if (a.isEmpty() && b.isEmpty()) {
      return null;
    }
    ListValue.Builder changes = ListValue.newBuilder();
    List<List<String>> rows = new ArrayList<>();
    TreeSet<Long> pids = new TreeSet<>(a.keySet());
    pids.addAll(b.keySet());
    for (long pid : pids) {
      List<Long> was = a.getOrDefault(pid, List.of());
      List<Long> now = b.getOrDefault(pid, List.of());
      for (int i = 0; i < TemplateDevice.REGISTERS; i++) {
        String x = i < was.size() ? Long.toString(was.get(i)) : "-";
        String y = i < now.size() ? Long.toString(now.get(i)) : "-";
        if (!x.equals(y)) {
          rows.add(List.of(String.valueOf(pid), "r" + i, x, y));
          changes.addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
              .putFields("pid", string(String.valueOf(pid))).putFields("register", string("r" + i))
              .putFields("from", string(x)).putFields("to", string(y))));
        }
      }
    }
    return new PluginReport(Struct.newBuilder().putFields("changed",
        Value.newBuilder().setListValue(changes).build()).build(),
        List.of(new ReportTable("registers changed", List.of("pid", "register", "from", "to"),
            rows)));
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Map<Long, List<Long>> read(PluginImages images) {
    Map<Long, List<Long>> out = new TreeMap<>();
    for (long pid : images.entryIds(REGS)) {
      out.put(pid, images.readEntries(REGS, pid, Int64Value.parser()).stream()
          .map(Int64Value::getValue).toList());
    }
    return out;
  }
}

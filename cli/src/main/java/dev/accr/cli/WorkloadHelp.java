package dev.accr.cli;

import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;

/** A workload's help: what it does and its options with their defaults, from the registry. */
final class WorkloadHelp {
  private WorkloadHelp() {}

  static String of(Workload w) {
    StringBuilder out = new StringBuilder();
    out.append("Usage: accr run [--node NODE] [--step-delay-ms MS] ").append(w.name())
        .append(" [OPTION VALUE]...\n");
    out.append(w.name()).append(": ").append(w.description()).append('\n');
    if (w.options().isEmpty()) {
      return out.append("Options: ").append(w.usage()).append('\n').toString();
    }
    out.append("Options:\n");
    TextTable table = new TextTable("  ", "option", "default", "description");
    for (WorkloadOption o : w.options()) {
      table.row("--" + o.name() + " " + o.valueLabel(), o.defaultValue(), o.description());
    }
    return out.append(table).toString();
  }
}

package dev.accr.template;

import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOptions;
import java.util.List;
import java.util.Set;

/**
 * Counts on the template device: step {@code s} adds {@code s} to register {@code s % 8}. The
 * step count is in register gpr0, the descriptor in gpr1: all state is in the process.
 */
public final class TemplateCount implements Workload {
  @Override
  public String name() {
    return "tmpl-count";
  }

  @Override
  public String description() {
    return "counts in the registers of the template device";
  }

  @Override
  public String usage() {
    return "--steps K";
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    long steps = WorkloadOptions.parse(name(), args, Set.of("steps"))
        .getLong("steps", 20, 0, 1 << 30);
    p.thread(0).setGpr(1, p.files().openDevice(TemplateDeviceType.PATH));
    p.thread(0).setGpr(2, steps);
  }

  @Override
  public boolean step(ProcessView p) {
    var t = p.thread(0);
    long s = t.gpr(0);
    if (s >= t.gpr(2)) {
      return false;
    }
    TemplateDevice d = p.files().device((int) t.gpr(1), TemplateDevice.class);
    d.set((int) (s % TemplateDevice.REGISTERS), d.get((int) (s % TemplateDevice.REGISTERS)) + s);
    t.setGpr(0, s + 1);
    return true;
  }
}

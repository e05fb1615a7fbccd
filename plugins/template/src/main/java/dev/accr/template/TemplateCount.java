package dev.accr.template;

import dev.accr.api.CorruptImageException;
import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import java.util.List;

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
  public List<WorkloadOption> options() {
    return List.of(new WorkloadOption("steps", "K", "20", "steps before it exits"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    long steps = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()))
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

  /**
   * The step count and settings are within what {@code exec} accepts, and each device register
   * holds exactly the sum the steps so far added to it.
   */
  @Override
  public void checkRestored(ProcessView p) {
    var t = p.thread(0);
    long s = t.gpr(0);
    long steps = t.gpr(2);
    if (p.threadCount() != 1 || steps < 0 || steps > 1 << 30 || s < 0 || s > steps
        || t.gpr(1) < 0 || t.gpr(1) > Integer.MAX_VALUE) {
      throw new CorruptImageException("core-" + p.pid() + ".img", String.format("%s: step %d"
          + " of %d (descriptor %d) out of range", name(), s, steps, t.gpr(1)));
    }
    TemplateDevice d = p.files().device((int) t.gpr(1), TemplateDevice.class);
    for (int r = 0; r < TemplateDevice.REGISTERS; r++) {
      long expected = 0;
      for (long k = r; k < s; k += TemplateDevice.REGISTERS) {
        expected += k;
      }
      if (d.get(r) != expected) {
        throw new CorruptImageException("tmpl-regs-" + p.pid() + ".img", String.format(
            "%s: register %d is %d, but %d steps add up to %d", name(), r, d.get(r), s,
            expected));
      }
    }
  }
}

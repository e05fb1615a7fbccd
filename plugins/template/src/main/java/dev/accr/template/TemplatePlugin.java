package dev.accr.template;

import com.google.protobuf.Int64Value;
import dev.accr.api.AccrPlugin;
import dev.accr.api.CorruptImageException;
import dev.accr.api.DeviceFile;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginReport;
import dev.accr.api.ProcessView;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoints {@code /dev/tmpl0}: its registers go to {@code tmpl-regs-<pid>.img} when the
 * descriptor is dumped, and come back when it is reopened on restore. A real plugin would
 * define its own protobuf messages; the template uses a well-known type to stay small.
 */
public final class TemplatePlugin implements AccrPlugin {
  @Override
  public String name() {
    return "tmpl";
  }

  @Override
  public int apiVersion() {
    return API_VERSION;
  }

  @Override
  public boolean dumpExtFile(PluginContext ctx, ProcessView process, int fd, DeviceFile file) {
    if (!(file instanceof TemplateDevice device)) {
      return false;
    }
    List<Int64Value> regs = new ArrayList<>();
    for (int i = 0; i < TemplateDevice.REGISTERS; i++) {
      regs.add(Int64Value.of(device.get(i)));
    }
    ctx.images().writeEntries(TemplateReports.REGS, process.pid(), regs);
    return true;
  }

  /** {@code accr inspect}: the registers saved for each process. */
  @Override
  public PluginReport summarize(PluginImages images) {
    return TemplateReports.summarize(images);
  }

  /** {@code accr diff}: the registers that changed between two checkpoints. */
  @Override
  public PluginReport diff(PluginImages from, PluginImages to) {
    return TemplateReports.diff(from, to);
  }

  /** {@code accr check}: each process's registers file holds what restore reads. */
  @Override
  public void checkImages(PluginImages images) {
    for (long pid : images.entryIds(TemplateReports.REGS)) {
      checkRegisters(images.readEntries(TemplateReports.REGS, pid, Int64Value.parser()), pid);
    }
  }

  private static void checkRegisters(List<Int64Value> regs, long pid) {
    if (regs.size() != TemplateDevice.REGISTERS) {
      throw new CorruptImageException("tmpl-regs-" + pid + ".img",
          "registers: actual=" + regs.size() + " expected=" + TemplateDevice.REGISTERS);
    }
  }

  @Override
  public DeviceFile restoreExtFile(PluginContext ctx, ProcessView process, int fd, String path) {
    if (!path.equals(TemplateDeviceType.PATH)) {
      return null;
    }
    List<Int64Value> regs = ctx.images().readEntries(TemplateReports.REGS, process.pid(), Int64Value.parser());
    checkRegisters(regs, process.pid());
    TemplateDevice device = (TemplateDevice) ctx.node()
        .driver(TemplateDeviceType.TYPE, dev.accr.api.DeviceDriver.class).open(process, path);
    for (int i = 0; i < regs.size(); i++) {
      device.set(i, regs.get(i).getValue());
    }
    return device;
  }
}

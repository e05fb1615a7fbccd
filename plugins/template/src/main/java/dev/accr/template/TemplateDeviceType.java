package dev.accr.template;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.api.ProcessView;
import dev.accr.proto.Device;
import java.util.List;

/** The {@code tmpl} device type and its driver: one device, {@code /dev/tmpl0}. */
public final class TemplateDeviceType implements DeviceType {
  static final String TYPE = "tmpl";
  static final String PATH = "/dev/tmpl0";

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public DeviceDriver attach(NodeContext node, List<Device> devices) {
    return new DeviceDriver() {
      @Override
      public String type() {
        return TYPE;
      }

      @Override
      public boolean handles(String path) {
        return path.equals(PATH);
      }

      @Override
      public DeviceFile open(ProcessView process, String path) {
        if (!handles(path)) {
          throw AccrException.notFound("open: no such device: %s", path);
        }
        return new TemplateDevice();
      }

      @Override
      public void close() {}
    };
  }

  /**
   * How tools show the device: it has no id and no properties in the topology, so the label
   * is what every template device is.
   */
  @Override
  public DeviceLabel label(Device device) {
    return new DeviceLabel(0, TemplateDevice.REGISTERS + " registers",
        PATH + ", " + TemplateDevice.REGISTERS + " registers");
  }

  @Override
  public List<String> presets() {
    return List.of("tmpl1");
  }
}

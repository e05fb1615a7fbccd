package dev.accr.testkit;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginContext;

/**
 * A plugin whose {@code dumpDevicesLate} fails: named to run after every real plugin, so a dump
 * fails once the others have paused their devices and written their images.
 */
public final class FailingLatePlugin implements AccrPlugin {
  private final String message;

  public FailingLatePlugin(String message) {
    this.message = message;
  }

  @Override
  public String name() {
    return "zzfail";
  }

  @Override
  public void dumpDevicesLate(PluginContext ctx) {
    throw AccrException.failed("%s", message);
  }
}

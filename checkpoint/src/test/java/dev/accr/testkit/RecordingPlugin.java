package dev.accr.testkit;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.DevicePair;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginOption;
import dev.accr.api.ProcessView;
import dev.accr.proto.Topology;
import java.util.List;
import java.util.Set;

/**
 * A plugin that writes each hook it gets into a shared log ({@code name:hook}), declares the
 * options it is given, claims the API version it is given, and fails the hook named
 * {@code failIn}, if any.
 */
public final class RecordingPlugin implements AccrPlugin {
  private final String name;
  private final List<String> log;
  private final int apiVersion;
  private final List<PluginOption> options;
  private final String failIn;

  public RecordingPlugin(String name, List<String> log, int apiVersion,
      List<PluginOption> options, String failIn) {
    this.name = name;
    this.log = log;
    this.apiVersion = apiVersion;
    this.options = options;
    this.failIn = failIn;
  }

  public RecordingPlugin(String name, List<String> log) {
    this(name, log, API_VERSION, List.of(), null);
  }

  private void record(String hook) {
    synchronized (log) {
      log.add(name + ":" + hook);
    }
    if (hook.equals(failIn)) {
      throw AccrException.failed("%s fails in %s", name, hook);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int apiVersion() {
    return apiVersion;
  }

  @Override
  public List<PluginOption> options() {
    return options;
  }

  @Override
  public Set<String> relaxableChecks() {
    return Set.of(name + "-check");
  }

  @Override
  public void init(PluginContext ctx) {
    record("init");
  }

  @Override
  public void fini(PluginContext ctx, boolean ok) {
    record("fini(" + ok + ")");
  }

  @Override
  public List<DevicePair> mapDevices(PluginContext ctx, Topology target) {
    record("mapDevices");
    return List.of();
  }

  @Override
  public boolean pauseDevices(PluginContext ctx, ProcessView process) {
    record("pauseDevices");
    return false;
  }

  @Override
  public boolean checkpointDevices(PluginContext ctx, ProcessView process) {
    record("checkpointDevices");
    return false;
  }

  @Override
  public void dumpDevicesLate(PluginContext ctx) {
    record("dumpDevicesLate");
  }

  @Override
  public void postForking(PluginContext ctx, ProcessView process) {
    record("postForking");
  }

  @Override
  public boolean resumeDevicesLate(PluginContext ctx, ProcessView process) {
    record("resumeDevicesLate");
    return false;
  }
}

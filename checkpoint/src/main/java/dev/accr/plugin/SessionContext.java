package dev.accr.plugin;

import dev.accr.api.AccrPlugin;
import dev.accr.api.LazyRestoreHost;
import dev.accr.api.MappingPolicy;
import dev.accr.api.NodeContext;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginImages;
import dev.accr.api.PluginOption;
import dev.accr.kernel.BufferBudget;
import dev.accr.kernel.Node;

/**
 * One plugin's context in a {@link PluginSession}: the operation's stage, options and node,
 * and the plugin's own images of the set (which mark the plugin used when it writes any).
 */
final class SessionContext implements PluginContext {
  private final PluginSession session;
  private final AccrPlugin plugin;
  private final SetImages images;
  private volatile Object attachment;

  private final SessionSetup setup;

  SessionContext(PluginSession session, AccrPlugin plugin) {
    this.session = session;
    this.plugin = plugin;
    this.setup = session.setup();
    AccrPlugin.Stage stage = session.stage();
    boolean writing = stage == AccrPlugin.Stage.DUMP || stage == AccrPlugin.Stage.PRE_DUMP;
    this.images = new SetImages(plugin.name(), !writing, setup.dir(),
        setup.id(), setup.compression(), setup.parallelism(),
        () -> session.markUsed(plugin.name()),
        setup.node() instanceof Node n ? n.buffers() : BufferBudget.unlimited(),
        setup.cancelled(), session::remoteBulk)
        .withParent(setup.parentDir(), setup.parentId()).writingTo(setup.writeSink());
  }

  /** This plugin's images of the set, with the bulk files it has open. */
  SetImages setImages() {
    return images;
  }

  @Override
  public AccrPlugin.Stage stage() {
    return session.stage();
  }

  @Override
  public boolean memoryServedLater() {
    return session.memoryServedLater() && plugin.servesDeviceMemory();
  }

  @Override
  public dev.accr.api.DeviceStage deviceStage() {
    return session.deviceStage(plugin.name());
  }

  @Override
  public LazyRestoreHost lazyRestore() {
    return plugin.restoresLazily() ? session.lazy() : null;
  }

  @Override
  public NodeContext node() {
    return setup.node();
  }

  @Override
  public PluginImages images() {
    return images;
  }

  @Override
  public String option(String name, String fallback) {
    String given = setup.options().get(plugin.name() + "." + name);
    if (given != null) {
      return given;
    }
    PluginOption declared = PluginOptionCheck.declared(plugin, name);
    return declared != null ? declared.defaultValue() : fallback;
  }

  @Override
  public MappingPolicy mappingPolicy() {
    return setup.policy();
  }

  @Override
  public boolean leaveRunning() {
    return setup.leaveRunning();
  }

  @Override
  public void progress(String phase, long done, long total) {
    setup.progress().progress(plugin.name() + " " + phase, done, total);
  }

  @Override
  public boolean cancelled() {
    return setup.cancelled().getAsBoolean();
  }

  @Override
  public void attach(Object state) {
    attachment = state;
  }

  @Override
  public <T> T attachment(Class<T> type) {
    Object a = attachment;
    return type.isInstance(a) ? type.cast(a) : null;
  }
}

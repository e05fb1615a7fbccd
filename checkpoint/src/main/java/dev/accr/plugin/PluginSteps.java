package dev.accr.plugin;

import dev.accr.api.AccrPlugin;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The operation log's lines for the plugin hooks a {@link PluginSession} runs. */
final class PluginSteps {
  /** The session's logger: operation logs and log settings name it. */
  private static final Logger LOG = Logger.getLogger(PluginSession.class.getName());

  private PluginSteps() {}

  /**
   * Logs a plugin's step for the operation's log: at DEBUG when the plugin claimed something
   * or took a millisecond or more, else at TRACE.
   */
  static void log(AccrPlugin p, String step, long startNanos, boolean claimed) {
    long us = (System.nanoTime() - startNanos) / 1000;
    Level level = claimed || us >= 1000 ? Level.FINE : Level.FINEST;
    if (LOG.isLoggable(level)) {
      LOG.log(level, String.format("plugin %s: %s%s, %.1f ms", p.name(), step,
          claimed ? " (claimed)" : "", us / 1000.0));
    }
  }
}

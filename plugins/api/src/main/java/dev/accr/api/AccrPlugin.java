package dev.accr.api;

/**
 * A checkpoint plugin: handles a device type the core cannot checkpoint by itself. Found
 * through {@link java.util.ServiceLoader}; its {@link #name()} is recorded in the inventory of
 * every image set it wrote files to, and restoring such a set needs it installed.
 *
 * <p>Every hook has a default that does nothing, so a plugin implements only what it handles.
 */
public interface AccrPlugin {
  /** The plugin API version of this build; the host refuses plugins built for a newer one. */
  int API_VERSION = 1;

  /** The operations during which hooks run. */
  enum Stage {
    DUMP,
    PRE_DUMP,
    RESTORE
  }

  /** A short lowercase name, also the prefix of the plugin's image files. */
  String name();

  /** The API version the plugin was built against. */
  default int apiVersion() {
    return API_VERSION;
  }

  /** Called at the start of a dump, pre-dump or restore. */
  default void init(Stage stage) {}

  /**
   * Called at the end of a dump, pre-dump or restore; with {@code ok == false} the plugin rolls
   * back what it did (for example resumes paused devices).
   */
  default void fini(Stage stage, boolean ok) {}
}

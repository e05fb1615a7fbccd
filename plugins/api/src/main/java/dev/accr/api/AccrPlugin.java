package dev.accr.api;

import com.google.protobuf.Descriptors.Descriptor;
import dev.accr.proto.Topology;
import java.util.List;
import java.util.Set;

/**
 * A checkpoint plugin: saves and restores what the core cannot, such as the state of devices a
 * process uses. Found through {@link java.util.ServiceLoader} on accr's class path or in a jar
 * of the plugin directory ({@code --plugin-dir}, {@code ACCR_PLUGIN_DIR}).
 *
 * <p>The hooks follow CRIU's {@code criu-plugin.h}. The host runs them over every installed
 * plugin in name order; each default answers "not mine" (does nothing, returns {@code false}
 * or {@code null}) so that a plugin implements only what concerns its devices. Every hook gets
 * the {@link PluginContext} of the operation in progress; plugin objects are shared by
 * concurrent operations, so per-operation state belongs in {@link PluginContext#attach}.
 *
 * <p>Dump, in order: {@link #init}, {@link #pauseDevices} (the process still runs), the process
 * is frozen, {@link #checkpointDevices}, {@link #dumpExtFile} for each file the core cannot
 * handle, {@link #handleDeviceVma} for each device mapping, host memory is written,
 * {@link #dumpDevicesLate}, the set is committed, {@link #fini}; then the process is killed
 * or (with {@code --leave-running}, or when the dump failed) thawed.
 *
 * <p>Restore, in order: {@link #init}, {@link #mapDevices}, the process is created,
 * {@link #postForking}, {@link #updateVmaMap} for each device mapping, host memory is loaded,
 * {@link #restoreExtFile} for each file a plugin dumped, the process joins the node,
 * {@link #resumeDevicesLate}, the process runs, {@link #fini}. If restore fails, {@code fini}
 * gets {@code ok == false} and the process's files are closed, which releases its devices.
 */
public interface AccrPlugin {
  /**
   * The plugin API version of this build; the host refuses plugins built for a newer one.
   * Version 2 added device mapping ({@link #mapDevices}, {@link #relaxableChecks}); version 3
   * added {@link MemoryView#unmap} and {@link PluginImages#entryIds}; version 4 added declared
   * {@link #options}, {@link #summarize} and {@link #diff}, {@link DeviceType#label} and the
   * topology fields of {@link DeviceType}, {@link #checkImages}, {@link Workload#checkRestored},
   * {@link PageDigests}, {@link Sizes} and {@link Untrusted}; version 5 added incremental
   * dumps: {@link #tracksWrites}, {@link #preDumpDevices} and {@link PluginImages#parent};
   * version 6 added process trees: {@link ProcessView#fork} and its family, {@link Signals},
   * {@link MemoryView#mapShared}, pipes, socket pairs, memfds and {@link FileView#getFd}.
   */
  int API_VERSION = 6;

  /** The operations during which hooks run. */
  enum Stage {
    DUMP,
    PRE_DUMP,
    RESTORE,
    /**
     * A dry run of a restore's device mapping ({@code accr topology map}): images are readable,
     * the node is the target topology without drivers, and only {@link #mapDevices} runs.
     */
    MAP
  }

  /** A short lowercase name, also the prefix of the plugin's image files. */
  String name();

  /**
   * The API version the plugin was built against. Override it as {@code return API_VERSION;}:
   * the constant is compiled into the plugin, so the host learns the version the plugin was
   * built for. A plugin that does not override it is taken as built for API 3, the last
   * version before plugins declared their options; its options are passed on unchecked.
   */
  default int apiVersion() {
    return 3;
  }

  /**
   * The message type of the entries in this plugin's {@code <plugin>-<what>-<id>.img} files,
   * so that {@code accr show} can print them as structured text and JSON; null if unknown.
   */
  default Descriptor imageEntryType(String what) {
    return null;
  }

  /**
   * The options this plugin takes (API version 4), given as {@code --plugin-opt NAME.OPTION=V}.
   * The host refuses an option no plugin declares, and a value outside its declared range,
   * before any hook runs. A plugin built for an older API declares none and gets every option
   * given for it unchecked.
   */
  default List<PluginOption> options() {
    return List.of();
  }

  /**
   * {@code accr inspect} (API version 4): what this plugin saved in the set, read through
   * {@code images} (read-only, every file checked as it is read); null if it saved nothing
   * there. No node, process or driver is at hand.
   */
  default PluginReport summarize(PluginImages images) {
    return null;
  }

  /**
   * {@code accr diff} (API version 4): what changed in this plugin's files from the checkpoint
   * {@code from} to the later {@code to}, e.g. device pages compared by content; null if
   * neither set has files of this plugin. The core already compares every entries file field
   * by field; this is for what only the plugin understands.
   */
  default PluginReport diff(PluginImages from, PluginImages to) {
    return null;
  }

  /**
   * {@code accr check} (API version 4): validates this plugin's files in the set, read through
   * {@code images} (read-only, every file checked as it is read), with the same checks its
   * restore makes before it creates anything, so that a set {@code check} accepts is one
   * restore does not refuse for its contents. No node, process or driver is at hand. Throws
   * {@link CorruptImageException} naming the file at fault; the default checks nothing.
   */
  default void checkImages(PluginImages images) {}

  /**
   * The names of the mapping checks this plugin lets users relax with {@code --relax}; the
   * host refuses names no installed plugin knows.
   */
  default Set<String> relaxableChecks() {
    return Set.of();
  }

  /**
   * Restore and {@code accr topology map}: chooses a distinct device of {@code target} for
   * each device of this plugin's type that the image's process used, honouring
   * {@link PluginContext#mappingPolicy()}, and returns the pairs (empty if the image has no
   * devices of this plugin). During a restore the plugin keeps its choice (in its
   * {@link PluginContext#attach attachment}) for the hooks that follow.
   *
   * @throws AccrException with exit code 4 when no mapping exists, naming the image device
   *     that could not be placed and the property or link that ruled out every candidate
   */
  default List<DevicePair> mapDevices(PluginContext ctx, Topology target) {
    return List.of();
  }

  /** Start of a dump, pre-dump or restore. */
  default void init(PluginContext ctx) {}

  /**
   * End of a dump, pre-dump or restore. With {@code ok == false} the plugin rolls back what it
   * did (resumes paused devices, frees what it allocated). After a dump with
   * {@link PluginContext#leaveRunning()} it lets the devices run on.
   */
  default void fini(PluginContext ctx, boolean ok) {}

  /**
   * Before the process is frozen: stop its device work (preempt queues). Returns true if the
   * process uses devices of this plugin.
   */
  default boolean pauseDevices(PluginContext ctx, ProcessView process) {
    return false;
  }

  /** After the process is frozen: save its device state. Returns true if it had any. */
  default boolean checkpointDevices(PluginContext ctx, ProcessView process) {
    return false;
  }

  /**
   * Whether this plugin tracks writes to the device memory it saves (API version 5), so that
   * in an incremental dump ({@code images().parent()} not null) it stores only what was
   * written since the parent, and at restore reads the rest from the parents. A plugin that
   * does not track saves its memory in full in every dump, incremental or not (the dump's
   * summary says so), and takes no part in a pre-dump.
   */
  default boolean tracksWrites() {
    return false;
  }

  /**
   * {@code accr compact} (API 6, a default method): writes into {@code out} all of this
   * plugin's files of one full set equal to the chain that ends with {@code last} (whose
   * {@code parent()} leads up the chain, already verified by the host), e.g. device memory
   * stored incrementally folded into one full copy. Returns true when it did; the host then
   * copies none of this plugin's files of the last link. The default returns false: the host
   * copies the last link's files as they are, right for a plugin whose files never refer to
   * a parent; a chain in which a plugin that {@link #tracksWrites} took part is then refused.
   */
  default boolean compactImages(PluginImages last, PluginImages out) {
    return false;
  }

  /**
   * The {@link Stage#PRE_DUMP} hook (API version 5), for plugins that {@link #tracksWrites}:
   * with the process frozen (its devices may run), start a new period of write tracking and
   * save the device memory written since {@code images().parent()} (all of it when that is
   * null or its tracking began elsewhere); the copy may be taken while the devices run, since
   * what they write meanwhile belongs to the new period. Queues and events need not be saved.
   * Returns true if the process uses devices of this plugin.
   */
  default boolean preDumpDevices(PluginContext ctx, ProcessView process) {
    return false;
  }

  /**
   * The second half of a pre-dump (API version 6), once the process runs again: saves the
   * device memory that {@link #preDumpDevices} chose while the process was frozen. A plugin
   * that saves it there already need not override this; one that chose only (started the
   * tracking period and noted what to copy) copies here, so the process is not frozen for
   * the copy. What the process writes meanwhile is in the new tracking period, so a torn copy
   * is stored again by the next dump. Called only for plugins whose {@code preDumpDevices}
   * returned true, in the same session.
   */
  default void preDumpDevicesRunning(PluginContext ctx, ProcessView process) {}

  /**
   * A descriptor the core cannot dump (a device file). Returns true if the plugin saved what
   * it needs to reopen it; the core then records the plugin's name with the descriptor.
   */
  default boolean dumpExtFile(PluginContext ctx, ProcessView process, int fd, DeviceFile file) {
    return false;
  }

  /**
   * A device mapping met while dumping memory. Returns true if the plugin takes care of its
   * contents; the core then saves only the mapping, not its pages. A device mapping no plugin
   * claims fails the dump.
   */
  default boolean handleDeviceVma(PluginContext ctx, ProcessView process, DeviceMapping vma) {
    return false;
  }

  /** Once, after every process of the set is dumped. */
  default void dumpDevicesLate(PluginContext ctx) {}

  /** Restore: the process exists (no memory, no files yet). */
  default void postForking(PluginContext ctx, ProcessView process) {}

  /**
   * Restore: where a device mapping goes on this node (the render node or offset may differ).
   * Returns the new mapping, or null if not mine.
   */
  default DeviceMapping updateVmaMap(PluginContext ctx, ProcessView process, DeviceMapping vma) {
    return null;
  }

  /**
   * Restore: reopens a descriptor this plugin dumped, with the device state behind it. Returns
   * null if not mine. Host memory is already loaded.
   */
  default DeviceFile restoreExtFile(PluginContext ctx, ProcessView process, int fd, String path) {
    return null;
  }

  /**
   * Whether this plugin can restore its device memory lazily (API 6): with a lazy restore
   * ({@code restore --lazy}, {@code migrate --lazy}) the host then gives it a {@link
   * LazyRestoreHost} through {@link PluginContext#lazyRestore} during {@link #restoreExtFile}.
   * A plugin that answers false (the default) restores its device memory eagerly, as always,
   * and the host says so in the restore's summary.
   */
  default boolean restoresLazily() {
    return false;
  }

  /**
   * Whether this plugin can leave its device memory with a stopped process for the node it
   * migrates to (API 6, {@code accr migrate --lazy}): the dump then writes no bulk files for it
   * ({@link PluginContext#memoryServedLater} is true) and the host serves the memory through
   * {@link #serveDeviceMemory}. A plugin that answers false (the default) dumps its memory with
   * the device state, during the stop.
   */
  default boolean servesDeviceMemory() {
    return false;
  }

  /**
   * Post-copy dump, after {@link #checkpointDevices} of a process that stays stopped (API 6):
   * what serves its device memory by chunk until the target has it all, or null when the
   * process has none of this plugin's.
   */
  default DeviceMemoryServer serveDeviceMemory(PluginContext ctx, ProcessView process) {
    return null;
  }

  /**
   * Loads the device memory of process {@code pid} that {@code round} (a pre-copy round of a
   * migration coming to this node, read-only, checked as it is read) stores into {@code
   * stage}, ahead of the restore after the stop (API 6). Rounds come oldest first, each after
   * the one before; the plugin checks that each follows what it staged and drops what it
   * cannot keep exact. Its restore then asks {@link PluginContext#deviceStage} and reads from
   * the images only what the stage does not hold, with the same result as reading them all.
   * Returns whether anything was staged; the default stages nothing (the restore reads the
   * images as always).
   */
  default boolean stageDeviceMemory(PluginImages round, long pid, DeviceStage stage) {
    return false;
  }

  /** Restore: everything is in place; restart device work. Returns true if there was any. */
  default boolean resumeDevicesLate(PluginContext ctx, ProcessView process) {
    return false;
  }

  /**
   * Dump: every process of the tree is frozen (its devices paused); called once, before the
   * first {@link #checkpointDevices}. {@code tree} is the processes the dump covers, the root
   * first and every parent before its children: what a plugin may rely on finding in the image
   * (e.g. the exporter of a buffer a process imported). One context serves the whole tree.
   * Added in API 6 as a default method (older hosts dump single processes only).
   */
  default void treeFrozen(PluginContext ctx, List<ProcessView> tree) {}

  /**
   * Restore: every process of the tree exists with its memory, files and devices ({@link
   * #restoreExtFile} has run for all of them), none runs yet; called once, before the first
   * {@link #resumeDevicesLate}. A plugin that deferred work until another process of the tree
   * was restored (importing a buffer whose exporter came later) finishes it here. Throwing
   * fails the restore: nothing of the tree is left. Added in API 6 as a default method.
   */
  default void treeRestored(PluginContext ctx, List<ProcessView> tree) {}
}

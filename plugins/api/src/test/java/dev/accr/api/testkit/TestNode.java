package dev.accr.api.testkit;

import dev.accr.api.NodeContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An in-process node of the engine: processes are created, stepped, dumped and restored as
 * {@code accr run}, {@code dump} and {@code restore} would, without a daemon.
 */
public interface TestNode extends AutoCloseable {
  /** The node as drivers and plugins see it (its drivers, for checks). */
  NodeContext context();

  /** Creates a process that runs {@code workload} and is stepped by the caller; its pid. */
  int create(String workload, List<String> args);

  /** Starts a process that runs on its own thread; its pid. */
  int spawn(String workload, List<String> args);

  /** Runs one step of a process the caller steps; false once it has finished. */
  boolean step(int pid);

  /**
   * Waits until the process finishes (stepping it here if the caller steps it), removes it,
   * and returns its digest.
   */
  String finish(int pid);

  /**
   * Dumps a process into {@code dir}, with plugin options ({@code plugin.option} to value).
   * The process is gone afterwards unless {@code leaveRunning}, or unless the dump failed.
   */
  void dump(int pid, Path dir, Map<String, String> pluginOptions, boolean leaveRunning);

  /** Restores the set in {@code dir}; the process is stepped by the caller. Returns its pid. */
  int restore(Path dir);

  /** The pids of the node's processes. */
  List<Integer> pids();

  @Override
  void close();
}

package dev.accr.api;

import java.util.List;

/**
 * A named, deterministic program that runs in a simulated process. Implementations are found
 * through {@link java.util.ServiceLoader} and must be stateless: all program state lives in
 * the process ({@link ProcessView}), which is what checkpoint/restore saves.
 */
public interface Workload {
  /** The name users give to {@code accr run}. */
  String name();

  /** One line for listings. */
  String description();

  /** The options the workload accepts, one line, e.g. {@code --steps K --seed S}. */
  String usage();

  /**
   * Sets up a fresh process to run this program with {@code args}, like {@code execve}: maps
   * memory, opens files and sets registers.
   *
   * @throws AccrException with {@link AccrException#USAGE} for bad arguments
   */
  void exec(ProcessView process, List<String> args);

  /**
   * Runs one step. Returns {@code false} when the program has finished and the process exits
   * (no state is changed by that last call).
   */
  boolean step(ProcessView process);
}

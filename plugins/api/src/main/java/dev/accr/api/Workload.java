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
   * The options the workload accepts, with their defaults and descriptions, for help ({@code
   * accr run WORKLOAD --help}, {@code accr plugins WORKLOAD}). The default, empty, makes help
   * show {@link #usage} alone.
   */
  default List<WorkloadOption> options() {
    return List.of();
  }

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

  /**
   * Checks a restored process before it runs: its registers, the fields it keeps in memory and
   * the device state it relies on (event counts, fences) must be values this program can
   * reach, so that a hostile but correctly framed image cannot make it loop or wait forever.
   * Called by restore after memory, threads, files and devices are restored, before the
   * process is put into the process table. The default accepts everything.
   *
   * @throws CorruptImageException naming the image file that holds the value out of range
   *     ({@code core-<pid>.img} for registers, {@code pages-1.img} for memory, a plugin's file
   *     for device state); restore then fails with exit code 3 and leaves nothing behind
   */
  default void checkRestored(ProcessView process) {}
}

package dev.accr.engine;

import dev.accr.plugin.RemoteBulk;
import java.io.IOException;

/**
 * Where the memory of a process restored post-copy comes from: the node it migrates from,
 * which serves its host pages and its plugins' device memory (see {@link ServedMemory}).
 */
public interface RemoteMemory {
  /** The host pages of process {@code pid}, by unit. */
  PageSource hostPages(int pid);

  /** The plugins' bulk files served (the others are read from the set). */
  RemoteBulk bulk();

  /**
   * Waits until the source says the process may start (its dump succeeded: until then it may
   * still thaw its own copy); throws when it cannot say so any more. The restore calls it
   * once everything is restored, before the process is adopted.
   */
  default void awaitGo() throws IOException {}
}

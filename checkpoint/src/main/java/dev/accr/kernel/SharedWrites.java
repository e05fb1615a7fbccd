package dev.accr.kernel;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One step of write tracking across the address spaces of a tree: each shared-memory object
 * ends its period once, however many of the tree's mappings show it, and every mapping of it
 * reports that one period's pages. Pass the same instance to each {@link
 * AddressSpace#trackWrites(String, SharedWrites)} of the step.
 */
public final class SharedWrites {
  private final Map<SharedMemory, SharedMemory.Ended> ended = new IdentityHashMap<>();

  /** A fresh step: no object has ended its period in it yet. */
  public static SharedWrites step() {
    return new SharedWrites();
  }

  private SharedWrites() {}

  /** The period of {@code shm} that ended in this step (ending it on first call). */
  synchronized SharedMemory.Ended end(SharedMemory shm, String label) {
    return ended.computeIfAbsent(shm, s -> s.trackWrites(label));
  }
}

package dev.accr.kernel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands out the ids of a node's shared kernel objects (open file descriptions, pipes, shared
 * memory): unique on the node for its lifetime, so that a dump can write each object once and
 * name it from every process that holds it.
 */
public final class KernelIds {
  private final AtomicLong next = new AtomicLong(1);

  /** A fresh id, never 0. */
  public long next() {
    return next.getAndIncrement();
  }
}

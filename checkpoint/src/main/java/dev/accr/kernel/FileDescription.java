package dev.accr.kernel;

/**
 * An open file description: what one or more descriptors, in one process or several, refer
 * to (after fork or pidfd_getfd), with a node-unique id. It closes when its last descriptor
 * is closed.
 */
public abstract sealed class FileDescription
    permits OpenFile, DeviceDescription, PipeEnd, SocketEnd, MemfdFile {
  private final long id;
  private int references = 1;

  FileDescription(long id) {
    this.id = id;
  }

  /** The node-unique id of this description (the same in every process that shares it). */
  public final long id() {
    return id;
  }

  /** Descriptors that refer to it, in all processes. */
  public final synchronized int references() {
    return references;
  }

  final synchronized void retain() {
    if (references == 0) {
      throw new IllegalStateException("description " + id + " is closed");
    }
    references++;
  }

  /** Drops one descriptor; the last one closes the description. */
  final void release() {
    synchronized (this) {
      if (references == 0 || --references > 0) {
        return;
      }
    }
    closeLast();
  }

  /** Whether the description is still open (some descriptor refers to it). */
  public final synchronized boolean isOpen() {
    return references > 0;
  }

  /** Releases what the description holds; called once, when its last descriptor goes. */
  abstract void closeLast();

  /** Whether a child created by fork inherits descriptors of this description. */
  boolean inheritedByFork() {
    return true;
  }

  /** What the descriptor is, for messages and listings, e.g. {@code pipe:[12]}. */
  public abstract String describe();

  @Override
  public String toString() {
    return describe();
  }
}

package dev.accr.kernel;

import java.util.Map;

/**
 * Says why a process cannot be checkpointed on its own: it is part of a tree (it has a parent
 * or children) or holds something the kernel shares between processes (a pipe, a socket, a
 * memfd, shared memory, a descriptor another process also holds).
 */
public final class SingleProcessCheck {
  private SingleProcessCheck() {}

  /** Why {@code p} is not a lone process, or null if it is. */
  public static String reason(SimProcess p) {
    Lineage l = p.lineage();
    if (l.ppid() != 0) {
      return "it is a child of process " + l.ppid();
    }
    if (!l.children().isEmpty()) {
      return "it has child processes " + l.children();
    }
    for (Map.Entry<Integer, FileDescription> e : p.files().descriptions().entrySet()) {
      FileDescription d = e.getValue();
      if (d instanceof PipeEnd || d instanceof SocketEnd || d instanceof MemfdFile) {
        return "fd " + e.getKey() + " is " + d.describe();
      }
      if (d.references() > 1) {
        return "fd " + e.getKey() + " (" + d.describe() + ") is shared with another descriptor";
      }
    }
    for (Vma vma : p.memory().vmas()) {
      if (vma.shared() != null) {
        return "mapping " + vma + " is shared memory";
      }
    }
    return null;
  }
}

package dev.accr.engine;

import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginSession;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Freezes a process tree as one, as CRIU's cgroup freezer does: the devices of every process
 * are paused, then every process is stopped at a step boundary. The tree is scanned again
 * until a scan finds nobody new, so that a child forked while its parent was being frozen is
 * frozen too. Ends by thawing, stopping or killing all of them together.
 */
final class TreeFreezer {
  private final Node node;
  private final int root;
  private final Set<SimProcess> frozen = new LinkedHashSet<>();
  private final Set<SimProcess> zombies = new LinkedHashSet<>();

  TreeFreezer(Node node, int root) {
    this.node = node;
    this.root = root;
  }

  /** Pauses devices and freezes the whole tree; {@code session} null: no devices (pre-dump). */
  void freeze(PluginSession session) {
    while (true) {
      List<SimProcess> fresh = new ArrayList<>();
      for (SimProcess p : ProcessTree.members(node, root)) {
        if (!frozen.contains(p) && !zombies.contains(p)) {
          if (ProcessTree.zombie(p)) {
            zombies.add(p);
          } else {
            fresh.add(p);
          }
        }
      }
      if (fresh.isEmpty()) {
        return;
      }
      if (session != null) {
        for (SimProcess p : fresh) {
          session.pauseDevices(p);
        }
      }
      for (SimProcess p : fresh) {
        try {
          p.freeze();
          frozen.add(p);
        } catch (RuntimeException e) {
          if (!ProcessTree.zombie(p)) {
            throw e;
          }
          zombies.add(p); // it exited before it could be frozen
        }
      }
    }
  }

  /**
   * The tree as frozen: every process, zombies included, the root first and every parent
   * before its children.
   */
  List<SimProcess> processes() {
    List<SimProcess> all = new ArrayList<>();
    for (SimProcess p : ProcessTree.members(node, root)) {
      if (frozen.contains(p) || zombies.contains(p)) {
        all.add(p);
      }
    }
    return all;
  }

  boolean any() {
    return !frozen.isEmpty();
  }

  /** Lets every frozen process run on exactly as it was. */
  void thaw() {
    RuntimeException failure = null;
    for (SimProcess p : frozen) {
      try {
        p.thaw();
      } catch (RuntimeException e) {
        failure = add(failure, e);
      }
    }
    frozen.clear();
    if (failure != null) {
      throw failure;
    }
  }

  /** Keeps every process stopped after the dump, until each is thawed or killed. */
  void stayStopped() {
    frozen.forEach(SimProcess::stayStopped);
    frozen.clear();
  }

  /** Kills the whole tree (a dump without --leave-running) and removes it from the table. */
  void kill() {
    RuntimeException failure = null;
    for (SimProcess p : zombies) {
      node.reap(p);
    }
    zombies.clear();
    for (SimProcess p : frozen) {
      try {
        p.killFrozen();
        node.reap(p);
      } catch (RuntimeException e) {
        failure = add(failure, e);
      }
    }
    frozen.clear();
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException add(RuntimeException first, RuntimeException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}

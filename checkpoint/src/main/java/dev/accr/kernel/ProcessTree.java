package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.FileView;
import dev.accr.api.Signals;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The family relations of a node's processes: fork, exit, waitpid, orphans, process groups,
 * sessions and signals. Everything runs under the lock of the node's process table (the node
 * object), so that a fork, an exit and a reap never see each other half done.
 *
 * <p>Orphans: the root of a tree (a process with parent 0, as {@code accr run} starts) is the
 * subreaper of its tree, as a job launcher that sets {@code PR_SET_CHILD_SUBREAPER}: the
 * children of a process that exits become children of the root. A root that has exited reaps
 * its children as they exit (as init does), so a tree always ends: its root's exit completes,
 * with the digest of the whole tree, once the root and every descendant have exited.
 */
final class ProcessTree {
  private final Object lock;
  private final Map<Integer, SimProcess> table;

  ProcessTree(Object lock, Map<Integer, SimProcess> table) {
    this.lock = lock;
    this.table = table;
  }

  /** Records a new child in its parent (the child is already in the table). */
  void adoptChild(SimProcess parent, SimProcess child) {
    synchronized (lock) {
      parent.lineage().addChild(child.pid());
    }
  }

  /**
   * Bookkeeping once {@code p} has exited and released its memory and files: it becomes a
   * zombie; its children go to the root of its tree; its parent is woken, or reaps it at once
   * if the parent has exited; exits whose tree is now complete are completed.
   */
  void exited(SimProcess p, int status, String ownDigest, AccrException failure) {
    List<Runnable> completions = new ArrayList<>();
    synchronized (lock) {
      Lineage l = p.lineage();
      l.markExited(status, ownDigest);
      p.recordFailure(failure);
      int ppid = l.ppid();
      if (ppid != 0) {
        SimProcess root = rootOf(p);
        for (int child : l.children()) {
          l.removeChild(child);
          reparent(child, root, completions);
        }
        // A process that is not a root has no children left: its own exit is complete.
        completions.add(p::completeExit);
      }
      SimProcess parent = table.get(ppid);
      if (parent != null && parent.lineage().exited()) {
        reap(parent, p, completions);
      } else if (parent != null) {
        parent.wakeups().signal();
      }
      if (ppid == 0) {
        for (int child : l.children()) {
          SimProcess c = table.get(child);
          if (c != null && c.lineage().exited()) {
            reap(p, c, completions);
          }
        }
        completeIfDone(p, completions);
      }
    }
    completions.forEach(Runnable::run);
  }

  private void reparent(int pid, SimProcess root, List<Runnable> completions) {
    SimProcess c = table.get(pid);
    if (c == null) {
      return;
    }
    if (root == null) {
      c.lineage().setParent(0); // no root left (cannot happen while roots outlive their trees)
      return;
    }
    c.lineage().setParent(root.pid());
    root.lineage().addChild(pid);
    if (root.lineage().exited() && c.lineage().exited()) {
      reap(root, c, completions);
      completeIfDone(root, completions);
    } else {
      root.wakeups().signal();
    }
  }

  /** The root of {@code p}'s tree (the ancestor whose parent is 0), or null if none is left. */
  private SimProcess rootOf(SimProcess p) {
    SimProcess at = p;
    for (int guard = 0; guard <= table.size(); guard++) {
      int ppid = at.lineage().ppid();
      if (ppid == 0) {
        return at;
      }
      SimProcess up = table.get(ppid);
      if (up == null) {
        return null;
      }
      at = up;
    }
    return null;
  }

  private void reap(SimProcess parent, SimProcess child, List<Runnable> completions) {
    parent.lineage().removeChild(child.pid());
    parent.lineage().addReaped(child.lineage());
    table.remove(child.pid(), child);
    if (parent.lineage().exited()) {
      parent.noteChildFailure(child); // nobody else will hear of a crash in the tree
      completeIfDone(parent, completions);
    }
  }

  private static void completeIfDone(SimProcess root, List<Runnable> completions) {
    if (root.lineage().ppid() == 0 && root.lineage().exited()
        && root.lineage().children().isEmpty()) {
      completions.add(root::completeExit);
    }
  }

  /** waitpid(pid, WNOHANG) for {@code parent}: the status of a reaped child, or WOULD_BLOCK. */
  int waitChild(SimProcess parent, int pid, StepWaits waits) {
    synchronized (lock) {
      if (pid == -1) {
        return waitAnyChild(parent, waits);
      }
      SimProcess c = table.get(pid);
      if (c == null || c.lineage().ppid() != parent.pid()) {
        throw AccrException.failed("waitpid: process %d is not a child of %d", pid,
            parent.pid());
      }
      if (!c.lineage().exited()) {
        waits.note(parent.wakeups(), parent.wakeups().version());
        return FileView.WOULD_BLOCK;
      }
      reap(parent, c, new ArrayList<>());
      return c.lineage().exitStatus();
    }
  }

  private int waitAnyChild(SimProcess parent, StepWaits waits) {
    List<Integer> children = parent.lineage().children();
    if (children.isEmpty()) {
      throw AccrException.failed("waitpid: process %d has no children", parent.pid());
    }
    for (int pid : children) {
      SimProcess c = table.get(pid);
      if (c != null && c.lineage().exited()) {
        reap(parent, c, new ArrayList<>());
        return c.lineage().exitStatus();
      }
    }
    waits.note(parent.wakeups(), parent.wakeups().version());
    return FileView.WOULD_BLOCK;
  }

  void setpgid(SimProcess caller, int pid, int pgid) {
    synchronized (lock) {
      SimProcess target = pid == 0 ? caller : table.get(pid);
      if (target == null || target.lineage().exited() || (target != caller
          && target.lineage().ppid() != caller.pid())) {
        throw AccrException.failed("setpgid: process %d is neither %d nor a child of it", pid,
            caller.pid());
      }
      if (target.lineage().sid() != caller.lineage().sid()) {
        throw AccrException.failed("setpgid: process %d is in another session", target.pid());
      }
      if (target.lineage().sid() == target.pid()) {
        throw AccrException.failed("setpgid: process %d leads its session", target.pid());
      }
      int group = pgid == 0 ? target.pid() : pgid;
      if (group < 0) {
        throw AccrException.failed("setpgid: invalid process group %d", pgid);
      }
      if (group != target.pid() && members(group).stream()
          .noneMatch(m -> m.lineage().sid() == caller.lineage().sid())) {
        throw AccrException.failed("setpgid: no process group %d in session %d", group,
            caller.lineage().sid());
      }
      target.lineage().setGroup(group);
    }
  }

  int setsid(SimProcess caller) {
    synchronized (lock) {
      if (!members(caller.pid()).isEmpty()) {
        throw AccrException.failed("setsid: process %d already leads a process group",
            caller.pid());
      }
      caller.lineage().setSession(caller.pid());
      return caller.pid();
    }
  }

  /** The live processes of group {@code pgid}. */
  private List<SimProcess> members(int pgid) {
    List<SimProcess> out = new ArrayList<>();
    for (SimProcess p : table.values()) {
      if (!p.lineage().exited() && p.lineage().pgid() == pgid) {
        out.add(p);
      }
    }
    return out;
  }

  void kill(SimProcess sender, int pid, int signal) {
    if (signal != 0) {
      Signals.bit(signal); // checks the number
    }
    List<SimProcess> targets;
    synchronized (lock) {
      if (pid > 0) {
        SimProcess t = table.get(pid);
        targets = t == null || t.lineage().exited() ? List.of() : List.of(t);
      } else {
        targets = members(pid == 0 ? sender.lineage().pgid() : -pid);
      }
      if (targets.isEmpty()) {
        throw AccrException.notFound("kill: no such process%s %d", pid > 0 ? "" : " group",
            pid > 0 ? pid : pid == 0 ? sender.lineage().pgid() : -pid);
      }
      if (signal == 0) {
        return;
      }
      for (SimProcess t : targets) {
        t.lineage().raise(signal);
        t.wakeups().signal();
      }
    }
  }

  /** {@code p} and its descendants, parents before children. */
  List<SimProcess> subtree(SimProcess p) {
    synchronized (lock) {
      List<SimProcess> out = new ArrayList<>();
      Deque<SimProcess> todo = new ArrayDeque<>(List.of(p));
      while (!todo.isEmpty()) {
        SimProcess at = todo.poll();
        out.add(at);
        for (int child : at.lineage().children()) {
          SimProcess c = table.get(child);
          if (c != null && !out.contains(c)) {
            todo.add(c);
          }
        }
      }
      return out;
    }
  }

  /**
   * After a kill from outside ended {@code top} and its descendants: the descendants leave the
   * table; {@code top} too if it is a root (unless {@code keepRoot}: it stays until waited
   * for), else it stays a zombie (status 128 + SIGKILL, no digest) for its parent to reap.
   */
  void killed(SimProcess top, List<SimProcess> subtree, boolean keepRoot) {
    List<Runnable> completions = new ArrayList<>();
    synchronized (lock) {
      for (SimProcess q : subtree) {
        q.lineage().markExited(128 + Signals.SIGKILL, null);
        completions.add(q::failKilled);
        if (q != top) {
          table.remove(q.pid(), q);
        }
      }
      int ppid = top.lineage().ppid();
      SimProcess parent = table.get(ppid);
      for (int child : top.lineage().children()) {
        top.lineage().removeChild(child);
      }
      if (ppid == 0 || parent == null) {
        if (!keepRoot || ppid != 0) {
          table.remove(top.pid(), top);
        }
      } else if (parent.lineage().exited()) {
        reap(parent, top, completions);
      } else {
        parent.wakeups().signal();
      }
    }
    completions.forEach(Runnable::run);
  }
}

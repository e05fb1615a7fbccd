package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.proto.PstreeEntry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks of the tree pstree.img describes: every process but the root has its parent in the
 * tree, following parents from any process reaches the root (no cycle), and process groups and
 * sessions are led by a process of the tree or inherited from the root's.
 */
final class PstreeChecks {
  private PstreeChecks() {}

  /** Checks the tree of {@code processes}, whose root is {@code root}; names {@code file}. */
  static void check(Map<Integer, ImageSet.ProcessImages> processes, int root, String file) {
    PstreeEntry rootEntry = processes.get(root).pstree();
    if (processes.containsKey(rootEntry.getPpid())) {
      throw new CorruptImageException(file, "the root " + root + " has its parent "
          + rootEntry.getPpid() + " in the tree: the parents form a cycle");
    }
    for (ImageSet.ProcessImages p : processes.values()) {
      int pid = p.pstree().getPid();
      int lanes = p.pstree().getDescendantSumCount();
      if (lanes != 0 && lanes != dev.accr.kernel.TreeDigest.LANES) {
        throw new CorruptImageException(file, "pid " + pid + ": descendant sum lanes: actual="
            + lanes + " expected=" + dev.accr.kernel.TreeDigest.LANES);
      }
      Set<Integer> path = new LinkedHashSet<>();
      int at = pid;
      while (at != root) {
        if (!path.add(at)) {
          throw new CorruptImageException(file, "pid " + pid + ": its parents form a cycle "
              + String.join(" -> ", path.stream().map(String::valueOf).toList()) + " -> " + at);
        }
        ImageSet.ProcessImages here = processes.get(at);
        int ppid = here.pstree().getPpid();
        if (!processes.containsKey(ppid)) {
          throw new CorruptImageException(file, "pid " + at + ": ppid " + ppid
              + " is not a process of the tree (root " + root + ")");
        }
        at = ppid;
      }
      checkLeader(processes, pid, "pgid", p.pstree().getPgid(), rootEntry.getPgid(),
          file);
      checkLeader(processes, pid, "sid", p.pstree().getSid(), rootEntry.getSid(),
          file);
    }
  }

  private static void checkLeader(Map<Integer, ImageSet.ProcessImages> processes, int pid, String what, int id, int rootsId, String file) {
    if (id != rootsId && !processes.containsKey(id)) {
      throw new CorruptImageException(file, "pid " + pid + ": " + what + " " + id + " is"
          + " neither a process of the tree nor the root's (" + rootsId + ")");
    }
  }

  /** The processes of a checked tree, the root first and every parent before its children. */
  static List<ImageSet.ProcessImages> topDown(Map<Integer, ImageSet.ProcessImages> processes,
      int root) {
    List<ImageSet.ProcessImages> order = new ArrayList<>();
    Deque<Integer> next = new ArrayDeque<>(List.of(root));
    while (!next.isEmpty()) {
      int parent = next.poll();
      order.add(processes.get(parent));
      for (ImageSet.ProcessImages p : processes.values()) {
        if (p.pstree().getPid() != root && p.pstree().getPpid() == parent) {
          next.add(p.pstree().getPid());
        }
      }
    }
    return order;
  }
}

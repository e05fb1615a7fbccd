package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** The processes of a tree on a node: a root and its descendants. */
final class ProcessTree {
  private ProcessTree() {}

  /**
   * The root (which must exist) and its descendants, zombies included, parents before their
   * children.
   */
  static List<SimProcess> members(Node node, int root) {
    List<SimProcess> tree = new ArrayList<>();
    Deque<SimProcess> todo = new ArrayDeque<>(List.of(node.process(root)));
    while (!todo.isEmpty()) {
      SimProcess p = todo.poll();
      if (tree.contains(p)) {
        continue;
      }
      tree.add(p);
      for (int child : p.lineage().children()) {
        try {
          todo.add(node.process(child));
        } catch (AccrException gone) {
          // reaped meanwhile
        }
      }
    }
    return tree;
  }

  /** Whether {@code p} has exited and waits to be reaped (it cannot be frozen). */
  static boolean zombie(SimProcess p) {
    return p.state() == SimProcess.State.EXITED || p.lineage().exited();
  }
}

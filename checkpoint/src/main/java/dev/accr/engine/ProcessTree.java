package dev.accr.engine;

import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import java.util.ArrayList;
import java.util.List;

/** The processes of a tree on a node: a root and its descendants. */
final class ProcessTree {
  private ProcessTree() {}

  /** The root (which must exist) and its live descendants, parents before their children. */
  static List<SimProcess> live(Node node, int root) {
    List<SimProcess> tree = new ArrayList<>();
    tree.add(node.process(root));
    return tree;
  }
}

package dev.accr.kernel;

import java.util.List;

/**
 * Runs a tree of processes that were never started on the caller's thread, one step of each
 * live process per round, in pid order or its reverse: tests use two orders to show that a
 * tree's result does not depend on scheduling, and step a tree to a chosen moment before a
 * dump.
 */
public final class InlineTree {
  /** Rounds after which a tree that never ends is taken as dead-locked. */
  static final long MAX_ROUNDS = 10_000_000;

  private InlineTree() {}

  /** The live processes of {@code root}'s tree (root included while it runs). */
  public static List<SimProcess> live(Node node, SimProcess root) {
    return node.tree().subtree(root).stream()
        .filter(p -> p.state() == SimProcess.State.NEW).sorted(
            java.util.Comparator.comparingInt(SimProcess::pid)).toList();
  }

  /** Steps each live process of the tree once; whether any still runs afterwards. */
  public static boolean round(Node node, SimProcess root, boolean reverse) {
    List<SimProcess> live = live(node, root);
    for (SimProcess p : reverse ? live.reversed() : live) {
      if (p.state() == SimProcess.State.NEW) {
        p.stepInlineInTree();
      }
    }
    return !live(node, root).isEmpty();
  }

  /** Runs rounds until the whole tree has exited; returns the tree's digest and reaps the root. */
  public static String finish(Node node, SimProcess root, boolean reverse) {
    for (long i = 0; round(node, root, reverse); i++) {
      if (i == MAX_ROUNDS) {
        throw new IllegalStateException("tree of " + root.pid() + " still runs after "
            + MAX_ROUNDS + " rounds");
      }
    }
    return node.waitFor(root.pid());
  }
}

package dev.accr.cli;

import java.nio.file.Path;

/**
 * How a command names a path to its node. A node on this machine (by name) gets the absolute
 * path; a node reached over TCP ({@code HOST:PORT}) gets the path as typed, which it resolves
 * inside its image root, and no working directory of this machine.
 */
final class NodePaths {
  private NodePaths() {}

  static boolean overTcp(NodeOption node) {
    return node.node.lastIndexOf(':') > 0;
  }

  static String path(NodeOption node, Path path) {
    return overTcp(node) ? path.toString() : path.toAbsolutePath().toString();
  }

  /** The working directory for a new process: ours locally, the node's image root over TCP. */
  static String workingDir(NodeOption node) {
    return overTcp(node) ? "" : System.getProperty("user.dir");
  }
}

package dev.accr.testkit;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.Restorer;
import dev.accr.engine.RestoreOptions;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Helpers for tests that run, dump and restore processes on in-process nodes. */
public final class Scenarios {
  private Scenarios() {}

  private static volatile Registry classPath;

  /** What is on the test class path (no plugin directories), loaded once per test JVM. */
  public static Registry registry() {
    Registry r = classPath;
    if (r == null) {
      synchronized (Scenarios.class) {
        r = classPath;
        if (r == null) {
          classPath = r = Registry.load(List.of());
        }
      }
    }
    return r;
  }

  /** A node of the class path's registry with a cpu-only topology. */
  public static Node node(String name) {
    return node(name, "cpu-only");
  }

  /** A node of the class path's registry with a preset or topology file. */
  public static Node node(String name, String topology) {
    Registry r = registry();
    return new Node(name, r.topologies().load(topology), r);
  }

  /** The plugins of the node's registry. */
  public static PluginHost plugins(Node node) {
    return PluginHost.of(node.registry().plugins());
  }

  /** Runs a workload inline from start to exit and returns its digest. */
  public static String uninterrupted(Node node, String workload, List<String> args, Path cwd) {
    SimProcess p = node.create(workload, args, cwd, 0);
    return finish(node, p);
  }

  /**
   * Steps a process that runs inline until it exits; returns the digest. Once it has children,
   * its whole tree is stepped (a round of every live process at a time) until the tree has
   * exited, and the digest is the tree's.
   */
  public static String finish(Node node, SimProcess p) {
    while (p.lineage().children().isEmpty()) {
      if (!p.stepInline()) {
        String digest = dev.accr.kernel.ProcessDigest.of(p);
        node.kill(p.pid());
        return digest;
      }
    }
    return InlineTree.finish(node, p, false);
  }

  /** Steps a process {@code steps} times (or until it exits). */
  public static void step(SimProcess p, int steps) {
    for (int i = 0; i < steps && p.stepInline(); i++) {
      // keep stepping
    }
  }

  /**
   * Steps a process {@code steps} times, or once it has children its whole tree a round at a
   * time (or until it exits).
   */
  public static void step(Node node, SimProcess p, int steps) {
    for (int i = 0; i < steps; i++) {
      boolean more = p.lineage().children().isEmpty() ? p.stepInline()
          : InlineTree.round(node, p, false);
      if (!more) {
        return;
      }
    }
  }

  public static void dump(Node node, SimProcess p, Path dir, DumpOptions options)
      throws IOException {
    new Dumper(node, plugins(node)).dump(p.pid(), dir, options, ProgressListener.NONE);
  }

  public static SimProcess restore(Node node, Path dir) throws IOException {
    return restore(node, dir, RestoreOptions.defaults());
  }

  /** Restores with {@code options}; the process stays for the caller to step inline. */
  public static SimProcess restore(Node node, Path dir, RestoreOptions options)
      throws IOException {
    return new Restorer(node, plugins(node)).restore(dir, options.withThreads(2)
        .withStart(RestoreOptions.Start.INLINE), ProgressListener.NONE).process();
  }
}

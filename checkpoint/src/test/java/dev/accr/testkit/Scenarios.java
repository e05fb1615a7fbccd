package dev.accr.testkit;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.Restorer;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Topologies;
import dev.accr.plugin.PluginHost;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Helpers for tests that run, dump and restore processes on in-process nodes. */
public final class Scenarios {
  private Scenarios() {}

  public static Node node(String name) {
    return new Node(name, Topologies.load("cpu-only"));
  }

  /** Runs a workload inline from start to exit and returns its digest. */
  public static String uninterrupted(Node node, String workload, List<String> args, Path cwd) {
    SimProcess p = node.create(workload, args, cwd, 0);
    return finish(node, p);
  }

  /** Steps a process that runs inline until it exits; returns the digest. */
  public static String finish(Node node, SimProcess p) {
    while (p.stepInline()) {
      // keep stepping
    }
    String digest = dev.accr.kernel.ProcessDigest.of(p);
    node.kill(p.pid());
    return digest;
  }

  /** Steps a process {@code steps} times (or until it exits). */
  public static void step(SimProcess p, int steps) {
    for (int i = 0; i < steps && p.stepInline(); i++) {
      // keep stepping
    }
  }

  public static void dump(Node node, SimProcess p, Path dir, DumpOptions options)
      throws IOException {
    new Dumper(node, PluginHost.installed()).dump(p.pid(), dir, options,
        dev.accr.image.ProgressListener.NONE);
  }

  public static SimProcess restore(Node node, Path dir) throws IOException {
    return new Restorer(node, PluginHost.installed())
        .restore(dir, 2, dev.accr.image.ProgressListener.NONE, false).process();
  }
}

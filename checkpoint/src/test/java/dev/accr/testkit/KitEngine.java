package dev.accr.testkit;

import dev.accr.api.NodeContext;
import dev.accr.api.testkit.TestEngine;
import dev.accr.api.testkit.TestNode;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.engine.RestoreOptions;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The engine side of the plugin test kit: in-process nodes, the real dumper and restorer. */
public final class KitEngine implements TestEngine {
  @Override
  public TestNode start(String name, String topology) {
    return new KitNode(Scenarios.node(name, topology));
  }

  private record KitNode(Node node) implements TestNode {
    @Override
    public NodeContext context() {
      return node;
    }

    @Override
    public int create(String workload, List<String> args) {
      return node.create(workload, args, Path.of("").toAbsolutePath(), 0).pid();
    }

    @Override
    public int spawn(String workload, List<String> args) {
      return node.spawn(workload, args, Path.of("").toAbsolutePath(), 0).pid();
    }

    @Override
    public boolean step(int pid) {
      SimProcess p = node.process(pid);
      // A process with children steps as a tree: one step of every live process of it.
      return p.lineage().children().isEmpty() ? p.stepInline()
          : dev.accr.kernel.InlineTree.round(node, p, false);
    }

    @Override
    public String finish(int pid) {
      SimProcess p = node.process(pid);
      if (p.state() == SimProcess.State.NEW) {
        return Scenarios.finish(node, p);
      }
      return node.waitFor(pid);
    }

    @Override
    public void dump(int pid, Path dir, Map<String, String> pluginOptions, boolean leaveRunning) {
      try {
        new Dumper(node, Scenarios.plugins(node)).dump(pid, dir, DumpOptions.defaults()
            .withPluginOptions(pluginOptions).withLeaveRunning(leaveRunning),
            ProgressListener.NONE);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public int restore(Path dir) {
      try {
        return Scenarios.restore(node, dir, RestoreOptions.defaults()).pid();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public List<Integer> pids() {
      return node.processes().stream().map(SimProcess::pid).toList();
    }

    @Override
    public void close() {
      node.close();
    }
  }
}

package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.Scenarios;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node keeps the lazy restores of its processes for {@code accr ps} only while they are in
 * its table: a lazy restore holds its process's page list, so those of processes gone are
 * dropped at the next lazy restore even when nobody runs ps.
 */
class LazyInfosTest {
  @TempDir Path tmp;
  private final Registry registry = Registry.of(List.of(), List.of(),
      List.of(new CounterWorkload()));

  @Test
  void theLazyRestoresOfProcessesGoneAreDroppedAtTheNextOne() throws Exception {
    try (Node node = new Node("a", registry.topologies().load("cpu-only"), registry)) {
      PluginHost plugins = PluginHost.of(node.registry().plugins());
      LazyInfos infos = new LazyInfos(node);
      for (int i = 0; i < 3; i++) {
        SimProcess p = node.create("counter", List.of("--mem-mib", "1", "--steps", "20"), tmp, 0);
        Scenarios.step(p, 3);
        Path set = tmp.resolve("set" + i);
        new Dumper(node, plugins).dump(p.pid(), set, DumpOptions.defaults(),
            ProgressListener.NONE);
        Restorer.Result r = new Restorer(node, plugins).restore(set,
            RestoreOptions.defaults().withLazy(RestoreOptions.Lazy.UNCHECKED),
            ProgressListener.NONE);
        assertNotNull(r.lazy(), "restored lazily");
        infos.restored(r.process().pid(), r.lazy());
        assertEquals(1, infos.size(), "kept after restore " + i);
        assertNotNull(infos.of(r.process().pid()));
        node.kill(r.process().pid());
      }
    }
  }
}

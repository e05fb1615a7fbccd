package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.Signals;
import dev.accr.engine.ChainTestWorkload;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree dumped while a child is a zombie (exited, not yet reaped) is restored for a caller
 * confined to the image root (a remote client, a migration's source): the zombie has no
 * working directory of its own to check, so it must not be taken for one outside the root.
 */
class ConfinedZombieRestoreTest {
  private static final Caller REMOTE = new Caller(true, "10.0.0.1:5000", "client");

  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new ChainTestWorkload()));
  private final Node node = new Node("svc", registry.topologies().load("cpu-only"), registry);

  @AfterEach
  void close() {
    node.close();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
      Thread.sleep(1);
    }
  }

  private static long phase(SimProcess root) {
    return root.thread(0).gpr(ChainTestWorkload.PHASE_REG);
  }

  @Test
  void aTreeWithAZombieIsRestoredForAConfinedCaller() throws Exception {
    ImageRoot root = ImageRoot.open(tmp.resolve("images"));
    NodeService service = new NodeService(node, root, () -> {});
    SimProcess tree = node.spawn("chain-test", List.of("240"), root.path(), 1);
    int pid = tree.pid();
    await(() -> phase(tree) >= 2, "the root has sent every record");
    tree.kill(pid, Signals.SIGUSR1); // the child ends; the root reaps it only on SIGUSR2
    await(() -> phase(tree) == 3 && node.process(tree.lineage().children().getFirst())
        .lineage().exited(), "the child is a zombie");
    new Dumper(node, PluginHost.of(node.registry().plugins())).dump(pid,
        root.path().resolve("set"), DumpOptions.defaults(), ProgressListener.NONE);

    List<Response> out = new ArrayList<>();
    service.handle(Request.newBuilder().setRestore(RestoreRequest.newBuilder().setDir("set"))
        .build(), REMOTE, out::add);
    Response last = out.getLast();
    assertTrue(last.hasRestore(), last::toString);
    assertEquals(pid, last.getRestore().getPid());
    node.kill(pid);
  }
}

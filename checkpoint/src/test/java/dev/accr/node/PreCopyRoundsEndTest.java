package dev.accr.node;

import static dev.accr.node.InProcessNodes.call;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.accr.kernel.Registry;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrateRequest;
import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pre-copy migration between two in-process nodes says why its rounds ended: a process that
 * rewrites all its memory between rounds does not converge; one that barely writes does.
 */
class PreCopyRoundsEndTest {
  @TempDir Path tmp;
  private final Registry registry = Registry.of(List.of(), List.of(),
      List.of(new CounterWorkload()));
  private InProcessNodes nodes;
  private Path root;
  private NodeService a;

  @BeforeEach
  void start() throws Exception {
    nodes = new InProcessNodes(registry, tmp);
    root = nodes.root();
    a = nodes.serve("a");
    nodes.serve("b");
  }

  @AfterEach
  void stop() throws Exception {
    nodes.close();
  }

  private MigrateReply migrate(int delayMs, String pagesPerStep, long smallRoundBytes)
      throws InterruptedException {
    int pid = call(a, Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--pages-per-step", pagesPerStep, "--steps",
            "1000000", "--out", root.resolve("c.out").toString()))
        .setCwd(root.toString()).setStepDelayMs(delayMs)).build()).getRun().getPid();
    Thread.sleep(200); // a few steps: its memory is touched
    return call(a, Request.newBuilder().setMigrate(MigrateRequest.newBuilder().setPid(pid)
        .setToNode("b").setMaxRounds(5).setSmallRoundBytes(smallRoundBytes)).build())
        .getMigrate();
  }

  @Test
  void roundsOfAProcessThatRewritesAllItsMemoryDoNotConverge() throws Exception {
    // Every step writes 4096 random pages of 256: the whole heap, between any two rounds.
    MigrateReply r = migrate(1, "4096", 0);
    assertEquals("not-converging", r.getRoundsEnd(), r.toString());
    assertEquals(3, r.getRoundsCount(), "two rounds (the second as large), then the stop");
  }

  @Test
  void roundsOfAProcessThatBarelyWritesConverge() throws Exception {
    MigrateReply r = migrate(500, "1", 16L << 20);
    assertEquals("converged", r.getRoundsEnd(), r.toString());
  }

  @Test
  void aColdMigrationHasNoRoundsToEnd() throws Exception {
    int pid = call(a, Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "1000000", "--out",
            root.resolve("c.out").toString()))
        .setCwd(root.toString()).setStepDelayMs(50)).build()).getRun().getPid();
    MigrateReply r = call(a, Request.newBuilder().setMigrate(MigrateRequest.newBuilder()
        .setPid(pid).setToNode("b").setMaxRounds(0)).build()).getMigrate();
    assertEquals("", r.getRoundsEnd());
  }
}

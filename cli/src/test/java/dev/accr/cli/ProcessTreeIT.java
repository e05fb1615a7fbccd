package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start -> checkpoint -> restore -> verify of a process tree (pipe-chain: a root and three
 * stages connected by pipes, with shared counters) through {@code ./accr} and a real node.
 */
class ProcessTreeIT {
  private static final String[] CHAIN = {"pipe-chain", "--stages", "3", "--steps", "120",
      "--seed", "9", "--mem-mib", "1", "--out"};

  @TempDir Path tmp;

  private static String[] run(String out, String... before) {
    String[] args = new String[before.length + CHAIN.length + 1];
    System.arraycopy(before, 0, args, 0, before.length);
    System.arraycopy(CHAIN, 0, args, before.length, CHAIN.length);
    args[args.length - 1] = out;
    return args;
  }

  /** The digest of an uninterrupted run, stepped in this JVM (a tree's digest ignores timing). */
  private static String uninterrupted(Path out) {
    try (Node node = Scenarios.node("reference")) {
      String[] args = run(out.toString());
      SimProcess root = node.create(args[0], List.of(args).subList(1, args.length), out.getParent(),
          0);
      return InlineTree.finish(node, root, false);
    }
  }

  @Test
  void aTreeDumpedWhileItRunsIsRestoredWholeAndEndsWithTheUninterruptedDigest()
      throws Exception {
    Launcher accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a");
    try {
      String expected = "digest: " + uninterrupted(tmp.resolve("ref.out"));

      // 50 ms a step: the chain runs for seconds, and forks its stages at its first step,
      // long before the dump client has started.
      String pid = accr.ok(run("moved.out", "run", "--node", "a", "--step-delay-ms", "50"))
          .strip();
      assertTrue(accr.ok("dump", "--node", "a", "-t", pid, "-D", "tree").contains(pid));
      String inspect = accr.ok("inspect", "tree");
      assertTrue(inspect.contains("shared") && inspect.contains("pipe")
          && inspect.contains("shmem") && inspect.contains("ppid " + pid), inspect);

      assertTrue(accr.ok("restore", "--node", "a", "-D", "tree").contains(pid));
      assertEquals(expected, accr.ok("wait", "--node", "a", "-t", pid).strip());
      assertEquals(-1, Files.mismatch(tmp.resolve("ref.out"), tmp.resolve("moved.out")));
    } finally {
      accr.run("node", "stop", "--name", "a");
    }
  }
}

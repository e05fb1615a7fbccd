package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start -> checkpoint -> restore -> verify of a process tree (pipe-chain: a root and three
 * stages connected by pipes, with shared counters) through {@code ./accr} and a real node.
 */
class ProcessTreeIT {
  private static final String[] CHAIN = {"pipe-chain", "--stages", "3", "--steps", "100",
      "--seed", "9", "--mem-mib", "1", "--out"};

  @TempDir Path tmp;

  private static String[] run(String out, String... before) {
    String[] args = new String[before.length + CHAIN.length + 1];
    System.arraycopy(before, 0, args, 0, before.length);
    System.arraycopy(CHAIN, 0, args, before.length, CHAIN.length);
    args[args.length - 1] = out;
    return args;
  }

  @Test
  void aTreeDumpedWhileItRunsIsRestoredWholeAndEndsWithTheUninterruptedDigest()
      throws Exception {
    Launcher accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a");
    try {
      String ref = accr.ok(run("ref.out", "run", "--node", "a")).strip();
      String expected = accr.ok("wait", "--node", "a", "-t", ref).strip();
      assertTrue(expected.matches("digest: [0-9a-f]{64}"), expected);

      // 20 ms a step: seconds of run, ended by the chain itself; the test polls, never sleeps.
      String pid = accr.ok(run("moved.out", "run", "--node", "a", "--step-delay-ms", "20"))
          .strip();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (accr.ok("ps", "--node", "a").lines().count() < 5) { // a header and four processes
        assertTrue(System.nanoTime() < deadline, "the root never forked its stages");
      }
      assertTrue(accr.ok("dump", "--node", "a", "-t", pid, "-D", "tree").contains(pid));
      String inspect = accr.ok("inspect", "tree");
      assertTrue(inspect.contains("shared") && inspect.contains("pipe")
          && inspect.contains("shmem"), inspect);
      assertTrue(accr.ok("inspect", "tree", "--json").contains("\"shared\""));
      assertTrue(accr.ok("check", "tree").contains("OK"));

      assertTrue(accr.ok("restore", "--node", "a", "-D", "tree").contains(pid));
      assertEquals(expected, accr.ok("wait", "--node", "a", "-t", pid).strip());
      assertEquals(-1, Files.mismatch(tmp.resolve("ref.out"), tmp.resolve("moved.out")));
    } finally {
      accr.run("node", "stop", "--name", "a");
    }
  }
}

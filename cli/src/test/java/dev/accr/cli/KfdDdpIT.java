package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start -> checkpoint -> restore -> verify of kfd-ddp (a launcher and four workers sharing
 * gradients as dma-bufs) through {@code ./accr} and a real node; a worker dumped without the
 * rest of its tree is refused and the tree runs on.
 */
class KfdDdpIT {
  private static final String[] DDP = {"kfd-ddp", "--gpus", "4", "--vram-kib", "256",
      "--steps", "300", "--seed", "9", "--gpu-us-per-wg", "50"};

  @TempDir Path tmp;

  private static String[] run(String... before) {
    String[] args = new String[before.length + DDP.length];
    System.arraycopy(before, 0, args, 0, before.length);
    System.arraycopy(DDP, 0, args, before.length, DDP.length);
    return args;
  }

  @Test
  void aTrainingTreeDumpedWhileItRunsEndsWithTheUninterruptedDigest() throws Exception {
    Launcher accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a", "--topology", "mi250x4");
    try {
      // The uninterrupted run goes alongside (a tree's digest ignores timing).
      String ref = accr.ok(run("run", "--node", "a")).strip();
      // 25 ms a step: longer than the few commands before the dump take on a busy machine (at
      // 10 and 15 ms a tree under heavy load once ended first); ended by the tree itself, the
      // test polls, never sleeps.
      String pid = accr.ok(run("run", "--node", "a", "--step-delay-ms", "25")).strip();
      long deadline = System.nanoTime() + 60_000_000_000L;
      List<String> workers;
      do {
        assertTrue(System.nanoTime() < deadline, "the launcher never forked its workers");
        workers = accr.ok("ps", "--node", "a").lines().skip(1)
            .map(l -> l.strip().split("\\s+")).filter(f -> f[1].equals(pid)).map(f -> f[0])
            .toList();
      } while (workers.size() < 4);
      String worker = workers.getFirst();

      Launcher.Result alone = accr.run("dump", "--node", "a", "-t", worker, "-D", "alone");
      assertEquals(1, alone.exitCode(), alone.err());
      assertTrue(alone.err().strip().lines().count() == 1
          && alone.err().contains("process " + worker), alone.err());

      assertTrue(accr.ok("dump", "--node", "a", "-t", pid, "-D", "tree").contains(pid));
      assertTrue(accr.ok("restore", "--node", "a", "-D", "tree").contains(pid));
      String expected = accr.ok("wait", "--node", "a", "-t", ref).strip();
      assertTrue(expected.matches("digest: [0-9a-f]{64}"), expected);
      assertEquals(expected, accr.ok("wait", "--node", "a", "-t", pid).strip());
    } finally {
      accr.run("node", "stop", "--name", "a");
    }
  }
}

package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.accr.proto.CoreEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pre-dump -> dump --parent -> check -> restore, through {@code ./accr} and nodes. */
class IncrementalIT {
  @TempDir Path tmp;

  @Test
  void aChainDumpedFromARunningProcessRestoresOnAnotherNode() throws Exception {
    Launcher accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a");
    accr.ok("node", "start", "--name", "b", "--topology", "cpu-2numa");
    try {
      String[] args = {"counter", "--mem-mib", "8", "--steps", "3000", "--seed", "9",
          "--pages-per-step", "8"};
      String ref = accr.ok(concat(new String[] {"run", "--node", "a"}, args, "--out",
          "ref.out")).strip();
      String expected = accr.ok("wait", "--node", "a", "-t", ref).strip();

      // 3000 steps of 10 ms: the process outlives the two commands on a busy machine.
      String pid = accr.ok(concat(new String[] {"run", "--node", "a", "--step-delay-ms", "10"},
          args, "--out", "cr.out")).strip();
      String pre = accr.ok("pre-dump", "--node", "a", "-t", pid, "-D", "l0");
      assertTrue(pre.contains("pre-dumped " + pid) && pre.contains("frozen"), pre);
      String dump = accr.ok("dump", "--node", "a", "-t", pid, "-D", "l1",
          "--prev-images-dir", "../l0", "--compress", "zstd");
      assertTrue(dump.contains("incremental"), dump);
      assertTrue(accr.ok("check", "l1").contains("OK"));
      // The copy runs its remaining steps without the pause (a field of its core image).
      ImageEdits.rewrite(tmp.resolve("l1").resolve("core-" + pid + ".img"), entries -> {
        try {
          return List.of(CoreEntry.parseFrom(entries.getFirst()).toBuilder().setStepDelayMs(0)
              .build().toByteString());
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
      });

      accr.ok("restore", "--node", "b", "-D", "l1");
      assertEquals(expected, accr.ok("wait", "--node", "b", "-t", pid).strip());

      // A chain whose parent is gone: exit 3, one line naming the link.
      Files.move(tmp.resolve("l0"), tmp.resolve("l0-moved"));
      Launcher.Result r = accr.run("restore", "--node", "b", "-D", "l1");
      assertEquals(3, r.exitCode(), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains("l1") && r.err().contains("../l0"), r.err());
    } finally {
      accr.run("node", "stop", "--name", "a");
      accr.run("node", "stop", "--name", "b");
    }
  }

  private static String[] concat(String[] head, String[] middle, String... tail) {
    String[] all = new String[head.length + middle.length + tail.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(middle, 0, all, head.length, middle.length);
    System.arraycopy(tail, 0, all, head.length + middle.length, tail.length);
    return all;
  }
}

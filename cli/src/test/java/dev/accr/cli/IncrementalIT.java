package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.accr.proto.CoreEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pre-dump -> dump --parent -> check -> restore, through {@code ./accr} and nodes, of a
 * process and of a process tree; a restore tracks writes for a later dump --parent only
 * with --track-mem.
 */
class IncrementalIT {
  @TempDir static Path tmp;
  private static Launcher accr;

  @BeforeAll
  static void nodes() throws Exception {
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a");
    accr.ok("node", "start", "--name", "b", "--topology", "cpu-2numa");
  }

  @AfterAll
  static void stopNodes() throws Exception {
    accr.run("node", "stop", "--name", "a");
    accr.run("node", "stop", "--name", "b");
  }

  @Test
  void aChainDumpedFromARunningProcessRestoresOnAnotherNode() throws Exception {
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
  }

  /**
   * pipe-chain (a root, three stages, pipes, shared counters) pre-dumped and dumped --parent
   * while it runs; the chain restored without --track-mem refuses a dump --parent (one line),
   * restored with it gives a small dump --parent whose three-link chain ends with the
   * uninterrupted digest and output.
   */
  @Test
  void aTreeChainRestoresAndARestoreTracksWritesOnlyWithTrackMem() throws Exception {
    // 60 steps write at most 960 of each process's 2048 heap pages: a link after the first
    // stores less than half of it however long the commands below take.
    List<String> chain = List.of("pipe-chain", "--stages", "3", "--steps", "60", "--seed", "4",
        "--mem-mib", "8", "--out");
    String expected;
    try (Node node = Scenarios.node("reference")) {
      SimProcess root = node.create(chain.getFirst(), Stream.concat(chain.stream().skip(1),
          Stream.of(tmp.resolve("tree-ref.out").toString())).toList(), tmp, 0);
      expected = "digest: " + InlineTree.finish(node, root, false);
    }
    // 60 steps of 400 ms: the tree outlives the commands below on a busy machine.
    String pid = accr.ok(Stream.concat(Stream.of("run", "--node", "a", "--step-delay-ms", "400"),
        Stream.concat(chain.stream(), Stream.of("tree.out"))).toArray(String[]::new)).strip();
    assertTrue(accr.ok("pre-dump", "--node", "a", "-t", pid, "-D", "t0")
        .contains("pre-dumped " + pid));
    assertTrue(accr.ok("dump", "--node", "a", "-t", pid, "-D", "t1", "--parent", "../t0")
        .contains("incremental"));
    assertTrue(accr.ok("check", "t1").contains("OK"));

    accr.ok("restore", "--node", "a", "-D", "t1");
    Launcher.Result refused = accr.run("dump", "--node", "a", "-t", pid, "-D", "t2",
        "--parent", "../t1");
    assertEquals(1, refused.exitCode(), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());
    assertTrue(refused.err().contains("--track-mem"), refused.err());
    assertTrue(Files.notExists(tmp.resolve("t2").resolve("inventory.img")), "no set");
    accr.ok("kill", "--node", "a", "-t", pid);

    accr.ok("restore", "--node", "b", "-D", "t1", "--track-mem");
    assertTrue(accr.ok("dump", "--node", "b", "-t", pid, "-D", "t2", "--parent", "../t1")
        .contains("incremental"));
    long full = pagesBytes(tmp.resolve("t0"));
    long last = pagesBytes(tmp.resolve("t2"));
    assertTrue(last < full / 2, "the last link stores " + last + " of " + full + " bytes");
    // The copy runs its remaining steps without the pause (a field of each core image).
    try (Stream<Path> cores = Files.list(tmp.resolve("t2"))) {
      for (Path core : cores.filter(f -> f.getFileName().toString().startsWith("core-"))
          .toList()) {
        ImageEdits.rewrite(core, entries -> {
          try {
            return List.of(CoreEntry.parseFrom(entries.getFirst()).toBuilder()
                .setStepDelayMs(0).build().toByteString());
          } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
          }
        });
      }
    }
    accr.ok("restore", "--node", "b", "-D", "t2");
    assertEquals(expected, accr.ok("wait", "--node", "b", "-t", pid).strip());
    assertEquals(-1, Files.mismatch(tmp.resolve("tree-ref.out"), tmp.resolve("tree.out")));
  }

  private static long pagesBytes(Path set) throws Exception {
    try (Stream<Path> files = Files.list(set)) {
      return files.filter(f -> f.getFileName().toString().startsWith("pages-"))
          .mapToLong(f -> f.toFile().length()).sum();
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

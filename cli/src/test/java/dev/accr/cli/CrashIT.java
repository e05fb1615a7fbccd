package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.DumpOptions;
import dev.accr.image.FaultInjection;
import dev.accr.image.PartialSets;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.node.NodeClient;
import dev.accr.proto.Request;
import dev.accr.proto.ShutdownRequest;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node daemons (through {@code ./accr node serve}) killed at many points of a dump: between
 * files, mid-chunk, before the rename, before the directory syncs. An earlier set next to the
 * target stays intact, the target is either absent or a complete set that checks, and the
 * leftovers go at the next node start and the next dump into the same directory.
 */
class CrashIT {
  /** Where to halt: the K-th durable-write step whose description contains the text. */
  private static final List<String> POINTS = List.of("2:.accr-partial", "1:mid-chunk:",
      "4:mid-chunk:", "1:sync:pages-", "1:create:core-", "1:create:inventory.img",
      "1:sync-dir:.", "1:rename:", "1:remove-marker:", "1:sync-dir:/");
  private static final int COMMITTED_FROM = POINTS.indexOf("1:remove-marker:");

  @TempDir Path tmp;

  private static void assertChecks(Path set) {
    CliRun check = CliRun.accr("check", set.toString());
    assertEquals(0, check.code(), () -> set + ": " + check.err());
    assertTrue(check.out().contains("OK"), check.out());
  }

  private static Map<String, byte[]> contents(Path dir) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (Stream<Path> s = Files.list(dir).sorted()) {
      for (Path f : s.toList()) {
        files.put(f.getFileName().toString(), Files.readAllBytes(f));
      }
    }
    return files;
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : s.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  private static void assertSame(Map<String, byte[]> expected, Path dir) throws IOException {
    Map<String, byte[]> actual = contents(dir);
    assertEquals(expected.keySet(), actual.keySet(), dir.toString());
    for (String name : expected.keySet()) {
      assertEquals(-1, Arrays.mismatch(expected.get(name), actual.get(name)),
          dir + "/" + name + " changed");
    }
  }

  @Test
  void aNodeKilledAnywhereInADumpLeavesAnEarlierSetIntactAndNoSetThatLooksWhole()
      throws Exception {
    Path run = Files.createDirectory(tmp.resolve("run"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Path reference = tmp.resolve("reference");
    try (Node node = Scenarios.node("ref")) {
      SimProcess p = node.create("counter", List.of("--mem-mib", "2", "--steps", "50", "--out",
          tmp.resolve("ref.out").toString()), tmp, 0);
      Scenarios.step(p, 10);
      Scenarios.dump(node, p, reference, DumpOptions.defaults());
    }
    Map<String, byte[]> earlier = contents(reference);

    // One parent per point; one is the image root of the node started afterwards.
    List<Path> parents = new ArrayList<>();
    for (int i = 0; i < POINTS.size(); i++) {
      Path parent = i == 1 ? run.resolve("images").resolve("after")
          : tmp.resolve("p" + i);
      copy(reference, parent.resolve("earlier"));
      parents.add(parent);
      NodeDaemon node = NodeDaemon.start("crash" + i, "-Daccr.fault.haltAt=" + POINTS.get(i),
          run, tmp);
      int pid = node.startCounter(tmp.resolve("c" + i + ".out"));
      assertThrows(AccrException.class, () -> node.client()
          .call(NodeDaemon.dump(pid, parent.resolve("set"), false), ProgressListener.NONE));
      assertTrue(node.process().waitFor(30, TimeUnit.SECONDS));
      String at = POINTS.get(i).substring(2);
      assertEquals(FaultInjection.HALT_STATUS, node.process().exitValue(), node.output());
      assertTrue(node.output().contains("accr fault: halting before "), node.output());
      assertTrue(node.output().lines().filter(l -> l.startsWith("accr fault: halting"))
          .allMatch(l -> l.contains(at)), node.output());

      assertSame(earlier, parent.resolve("earlier"));
      assertChecks(parent.resolve("earlier"));
      if (i < COMMITTED_FROM) {
        assertFalse(Files.exists(parent.resolve("set")), "killed before '" + at + "'");
        assertFalse(PartialSets.find(parent).isEmpty(), "a marked leftover");
      } else {
        assertChecks(parent.resolve("set")); // killed after the rename: the set is whole
      }
    }

    // A node starting clears its image root; the next dumps clear their directories.
    assertFalse(PartialSets.find(run.resolve("images").resolve("after")).isEmpty());
    NodeDaemon after = NodeDaemon.start("after", "", run, tmp);
    try {
      assertEquals(List.of(), PartialSets.find(run.resolve("images").resolve("after")));
      NodeClient node = after.client();
      int pid = after.startCounter(tmp.resolve("after.out"));
      for (Path parent : parents) {
        Path target = parent.resolve(Files.exists(parent.resolve("set")) ? "again" : "set");
        assertTrue(node.call(NodeDaemon.dump(pid, target, true), ProgressListener.NONE)
            .hasDump());
        assertChecks(target);
        assertEquals(List.of(), PartialSets.find(parent), "leftovers removed by the dump");
        assertSame(earlier, parent.resolve("earlier"));
      }
    } finally {
      after.client().call(Request.newBuilder().setShutdown(ShutdownRequest.getDefaultInstance())
          .build(), ProgressListener.NONE);
      after.process().waitFor(30, TimeUnit.SECONDS);
    }
  }
}

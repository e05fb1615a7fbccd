package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.PageDigests;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.InlineTree;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.ShmemEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pipe-chain dumped as chains of 1, 2 and 5 links at random moments (pre-dumps, dumps that
 * leave the tree running, a last dump), with stages forked and exiting between links, restored
 * and run to the end, or compacted into one set first: the digest of an uninterrupted run.
 * Incremental links store the shared counters once, by their owner, and a chain of another
 * tree is refused.
 */
class TreeChainTest {
  @TempDir static Path shared;
  private static String expected;
  private static long rounds;

  @TempDir Path tmp;

  @BeforeAll
  static void uninterrupted() throws IOException {
    Files.createDirectories(shared.resolve("a"));
    try (Node node = PipeChainTreeTest.node()) {
      SimProcess p = PipeChainTreeTest.create(node, shared.resolve("a"));
      while (InlineTree.round(node, p, false)) {
        rounds++;
      }
      expected = node.waitFor(p.pid());
    }
  }

  private static Dumper dumper(Node node, Path parent) {
    return new Dumper(node, PluginHost.of(node.registry().plugins())).withParent(parent,
        UnaryOperator.identity());
  }

  @ParameterizedTest(name = "{0} links, seed {1}")
  @CsvSource({"1, 41", "2, 42", "5, 43"})
  void aChainOfTheTreeRestoresToTheUninterruptedDigest(int links, long seed) throws Exception {
    Random random = new Random(seed);
    Path previous = null;
    try (Node a = PipeChainTreeTest.node(); Node b = PipeChainTreeTest.node()) {
      Path cwd = tmp.resolve("run");
      Files.createDirectories(cwd);
      SimProcess root = PipeChainTreeTest.create(a, cwd);
      long left = rounds - 2;
      for (int i = 0; i < links; i++) {
        long at = 1 + random.nextLong(Math.max(1, left / (links - i)));
        PipeChainTreeTest.rounds(a, root, at);
        left -= at;
        Path dir = tmp.resolve("link" + i);
        if (i == links - 1) {
          dumper(a, previous).dump(root.pid(), dir, DumpOptions.defaults().withThreads(2),
              ProgressListener.NONE);
        } else if (i % 2 == 0) {
          dumper(a, previous).preDump(root.pid(), dir, DumpOptions.defaults(),
              ProgressListener.NONE);
        } else {
          dumper(a, previous).dump(root.pid(), dir, DumpOptions.defaults()
              .withLeaveRunning(true), ProgressListener.NONE);
        }
        if (previous != null) {
          assertSharedStoredOnceByItsOwner(ImageSet.read(dir));
        }
        previous = dir;
      }
      assertTrue(a.processes().isEmpty(), "the last dump ended the tree");
      assertEquals(links, ImageChain.read(previous).links().size());
      ImageChecker.check(previous, 2, PluginHost.of(a.registry().plugins()));
      SimProcess again = PipeChainTreeTest.restore(b, previous);
      assertEquals(expected, InlineTree.finish(b, again, seed % 2 == 0));
      assertEquals(0, b.memory().residentPages());
      if (links > 2) {
        Path full = tmp.resolve("compacted");
        Compactor.compact(previous, full, DumpOptions.defaults(), a.registry().plugins());
        assertTrue(!ImageSet.read(full).hasParent());
        assertEquals(expected, InlineTree.finish(b, PipeChainTreeTest.restore(b, full), false),
            "compacted");
      }
    }
  }

  /**
   * A diff of two later links of one chain, for stages forked after the chain's first link
   * (which lacks them): read from the links that hold them, as reading every page gives it.
   */
  @Test
  void aDiffOfLaterLinksCoversStagesForkedAfterTheFirstLink() throws Exception {
    try (Node a = PipeChainTreeTest.node()) {
      Path cwd = tmp.resolve("forked");
      Files.createDirectories(cwd);
      SimProcess root = PipeChainTreeTest.create(a, cwd);
      Path first = tmp.resolve("before-fork");
      dumper(a, null).preDump(root.pid(), first, DumpOptions.defaults(), ProgressListener.NONE);
      Path[] later = {tmp.resolve("later-1"), tmp.resolve("later-2")};
      Path parent = first;
      for (Path dir : later) {
        PipeChainTreeTest.rounds(a, root, 3);
        dumper(a, parent).dump(root.pid(), dir, DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);
        parent = dir;
      }
      a.kill(root.pid());
      ImageChain from = ImageChain.read(later[0]);
      ImageChain to = ImageChain.read(later[1]);
      Set<Integer> forked = new TreeSet<>(from.last().processes().keySet());
      forked.retainAll(to.last().processes().keySet());
      forked.removeAll(ImageSet.read(first).processes().keySet());
      assertFalse(forked.isEmpty(), "stages forked after the first link");
      for (int pid : forked) {
        ChainDiffPages.Pair fast = ChainDiffPages.of(from, to, pid);
        assertEquals(PageDigests.compare(PageHashes.host(from, pid), PageHashes.host(to, pid),
            0, Long.MAX_VALUE), PageDigests.compare(fast.from(), fast.to(), 0, Long.MAX_VALUE),
            "stage " + pid);
      }
    }
  }

  /** Stages that exited between the links: their pages in the parent are left out. */
  @Test
  void stagesThatExitedSinceTheParentAreLeftOut() throws Exception {
    try (Node a = PipeChainTreeTest.node(); Node b = PipeChainTreeTest.node()) {
      Path cwd = tmp.resolve("ending");
      Files.createDirectories(cwd);
      SimProcess root = PipeChainTreeTest.create(a, cwd);
      PipeChainTreeTest.rounds(a, root, rounds / 2);
      dumper(a, null).preDump(root.pid(), tmp.resolve("middle"), DumpOptions.defaults(),
          ProgressListener.NONE);
      int before = ImageSet.read(tmp.resolve("middle")).processes().size();
      PipeChainTreeTest.rounds(a, root, rounds - rounds / 2 - 1);
      dumper(a, tmp.resolve("middle")).dump(root.pid(), tmp.resolve("end"),
          DumpOptions.defaults(), ProgressListener.NONE);
      ImageSet end = ImageSet.read(tmp.resolve("end"));
      long live = end.processes().values().stream().filter(p -> !p.pstree().getZombie())
          .count();
      assertTrue(live < before, live + " live processes of " + before);
      assertEquals(expected, InlineTree.finish(b, PipeChainTreeTest.restore(b,
          tmp.resolve("end")), false));
      assertEquals(0, b.memory().residentPages());
    }
  }

  /** The counters page is in the owner's pagemap or nowhere; no other process stores it. */
  private static void assertSharedStoredOnceByItsOwner(ImageSet set) {
    for (ShmemEntry s : set.shared().shmem().values()) {
      set.processes().forEach((pid, images) -> {
        for (PageChunkEntry c : images.chunks()) {
          for (PageRun r : c.getRunsList()) {
            boolean inside = r.getVaddr() < s.getOwnerVaddr() + s.getLength()
                && s.getOwnerVaddr() < r.getVaddr() + (long) r.getNrPages() * 4096;
            assertTrue(!inside || pid == s.getOwnerPid(), "process " + pid
                + " stores pages of shared memory " + s.getId() + " owned by "
                + s.getOwnerPid());
          }
        }
      });
    }
  }

  @Test
  void anIncrementalLinkStoresLessThanAFullDumpAndTheParentOfAnotherTreeIsRefused()
      throws Exception {
    try (Node a = PipeChainTreeTest.node()) {
      Path one = tmp.resolve("one");
      Path two = tmp.resolve("two");
      Files.createDirectories(one);
      Files.createDirectories(two);
      SimProcess first = PipeChainTreeTest.create(a, one);
      PipeChainTreeTest.rounds(a, first, rounds / 3);
      var full = dumper(a, null).dump(first.pid(), tmp.resolve("full"),
          DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE);
      PipeChainTreeTest.rounds(a, first, 1);
      var incremental = dumper(a, tmp.resolve("full")).dump(first.pid(), tmp.resolve("inc"),
          DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE);
      assertTrue(incremental.getPagesWritten() < full.getPagesWritten(), "incremental "
          + incremental.getPagesWritten() + " pages, full " + full.getPagesWritten());

      SimProcess other = PipeChainTreeTest.create(a, two);
      PipeChainTreeTest.rounds(a, other, 2);
      dumper(a, null).preDump(other.pid(), tmp.resolve("other"), DumpOptions.defaults(),
          ProgressListener.NONE);
      // A dump of the first tree naming the other's set as parent.
      AccrException e = assertThrows(AccrException.class, () -> dumper(a,
          tmp.resolve("other")).dump(first.pid(), tmp.resolve("mixed"),
          DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("not of " + first.pid()), e.getMessage());
      assertTrue(Files.notExists(tmp.resolve("mixed")));
      // A set whose parent was swapped for the other tree's: exit code 3 naming the link.
      Path swapped = tmp.resolve("swapped");
      dev.accr.testkit.ImageEdits.copy(tmp.resolve("inc"), swapped);
      Path parent = tmp.resolve("full");
      dev.accr.testkit.ImageEdits.copy(parent, tmp.resolve("full-kept"));
      deleteTree(parent);
      dev.accr.testkit.ImageEdits.copy(tmp.resolve("other"), parent);
      CorruptImageException c = assertThrows(CorruptImageException.class,
          () -> ImageChain.read(swapped));
      assertEquals(AccrException.CORRUPT, c.exitCode());
      assertTrue(c.getMessage().contains("inventory.img"), c.getMessage());
      InlineTree.finish(a, first, false);
      InlineTree.finish(a, other, false);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

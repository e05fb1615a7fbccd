package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.api.PageDigests;
import dev.accr.api.Prot;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.VmaEntry;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.FailingLatePlugin;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IncrementalDumpTest {
  private static final long PAGE = MemoryView.PAGE_SIZE;
  @TempDir Path tmp;

  /** Links at random moments, alternating pre-dumps and dumps that leave the process running. */
  @ParameterizedTest(name = "{0} links, seed {1}")
  @CsvSource({"1, 11", "2, 12", "5, 13"})
  void aChainRestoresToTheDigestOfAnUninterruptedRun(int links, long seed) throws Exception {
    List<String> args = List.of("--mem-mib", "2", "--steps", "60", "--seed", "5",
        "--pages-per-step", "12");
    Node a = Scenarios.node("a");
    String expected = Scenarios.uninterrupted(a, "counter", with(args, "plain.out"), tmp);
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    Random random = new Random(seed);
    Path previous = null;
    for (int i = 0; i < links; i++) {
      Scenarios.step(p, 1 + random.nextInt(60 / links - 1));
      Path dir = tmp.resolve("link" + i);
      Dumper dumper = new Dumper(a, Scenarios.plugins(a)).withParent(previous,
          UnaryOperator.identity());
      boolean last = i == links - 1;
      if (last) {
        dumper.dump(p.pid(), dir, DumpOptions.defaults().withThreads(2).withChunkPages(8),
            ProgressListener.NONE);
      } else if (i % 2 == 0) {
        dumper.preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2),
            ProgressListener.NONE);
      } else {
        dumper.dump(p.pid(), dir, DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);
      }
      previous = dir;
    }
    assertEquals(links, ImageChain.read(previous).links().size());
    ImageChecker.check(previous, 2, Scenarios.plugins(a));

    Node b = Scenarios.node("b", "cpu-2numa");
    assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, previous)));
    Path full = tmp.resolve("full");
    Compactor.compact(previous, full, DumpOptions.defaults(), a.registry().plugins());
    assertFalse(ImageSet.read(full).hasParent());
    assertEquals(expected, Scenarios.finish(a, Scenarios.restore(a, full)), "compacted");
    diffsFromWrittenPagesAreThoseOfAllPages(links, full);
  }

  /**
   * A dump that ends the process checks its parent's process images as a restore will: one
   * flipped bit in the parent's mm (same size) is exit 3 before anything is frozen, and the
   * process runs on and ends with the uninterrupted digest. A dump that leaves it running
   * needs only the links' identities.
   */
  @Test
  void aDumpThatEndsTheProcessRefusesADamagedParentAndTheProcessRunsOn() throws Exception {
    List<String> args = List.of("--mem-mib", "1", "--steps", "30", "--seed", "8");
    Node a = Scenarios.node("a");
    String expected = Scenarios.uninterrupted(a, "counter", with(args, "plain.out"), tmp);
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    Scenarios.step(p, 5);
    Path parent = tmp.resolve("parent");
    new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), parent, DumpOptions.defaults(),
        ProgressListener.NONE);
    Path mm = parent.resolve("mm-" + p.pid() + ".img");
    byte[] bytes = java.nio.file.Files.readAllBytes(mm);
    java.nio.file.Files.write(mm, dev.accr.testkit.ImageDamage.flipBit(bytes,
        bytes.length / 2, 3));
    Scenarios.step(p, 5);
    SimProcess.State before = p.state();
    dev.accr.testkit.ImageDamage.assertFails(AccrException.CORRUPT, "mm-", "ending dump",
        () -> new Dumper(a, Scenarios.plugins(a)).withParent(parent, UnaryOperator.identity())
            .dump(p.pid(), tmp.resolve("link"), DumpOptions.defaults(), ProgressListener.NONE));
    assertEquals(before, p.state(), "the process runs on as it was");
    new Dumper(a, Scenarios.plugins(a)).withParent(parent, UnaryOperator.identity())
        .dump(p.pid(), tmp.resolve("running"), DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);
    assertEquals(expected, Scenarios.finish(a, p));
  }

  /**
   * Between any two links of the chain, and between a link and the compacted set, the pages
   * a diff compares, found from the links' written pages, are those of reading every page.
   */
  private void diffsFromWrittenPagesAreThoseOfAllPages(int links, Path full) throws Exception {
    List<ImageChain> sets = new ArrayList<>();
    for (int i = 0; i < links; i++) {
      sets.add(ImageChain.read(tmp.resolve("link" + i)));
    }
    sets.add(ImageChain.read(full));
    boolean differ = false;
    for (ImageChain from : sets) {
      for (ImageChain to : sets) {
        int pid = from.last().inventory().getRootPid();
        ChainDiffPages.Pair fast = ChainDiffPages.fast(from, to, pid);
        if (fast == null) {
          // The compacted set shares only the last link's checkpoint id.
          assertTrue(from == sets.getLast() || to == sets.getLast(),
              "links of one chain share a link");
          continue;
        }
        var a = PageHashes.host(from, pid);
        var b = PageHashes.host(to, pid);
        assertEquals(a.keySet(), fast.from().keySet());
        assertEquals(b.keySet(), fast.to().keySet());
        List<VmaEntry> vmas = new ArrayList<>(from.last().processes().get(pid).mm().getVmasList());
        vmas.addAll(to.last().processes().get(pid).mm().getVmasList());
        for (VmaEntry v : vmas) {
          long end = v.getStart() + v.getLength();
          assertEquals(PageDigests.compare(a, b, v.getStart(), end),
              PageDigests.compare(fast.from(), fast.to(), v.getStart(), end), v.getName());
        }
        differ |= PageDigests.compare(a, b, 0, Long.MAX_VALUE).changed() > 0;
      }
    }
    assertTrue(links == 1 || differ, "the counter wrote pages between links");
  }

  @Test
  void aPageWrittenBetweenLinksIsInTheSecondLinkAndAnUnwrittenOneIsNot() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    long base = 0x5000_0000L;
    p.memory().mapAnonymous(base, 64 * PAGE, Prot.RW, "test");
    for (int i = 0; i < 64; i++) {
      p.memory().writeLong(base + i * PAGE, i + 1);
    }
    Path first = tmp.resolve("first");
    new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), first, DumpOptions.defaults(),
        ProgressListener.NONE);
    p.memory().writeLong(base + 5 * PAGE, 99);
    p.memory().writeLong(base + 6 * PAGE, 0); // was 7: now zero
    Path second = tmp.resolve("second");
    new Dumper(a, Scenarios.plugins(a)).withParent(first, UnaryOperator.identity())
        .dump(p.pid(), second, DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);

    ImageSet.ProcessImages images = ImageSet.read(second).processes().get(p.pid());
    TreeSet<Long> stored = storedPages(images);
    assertTrue(stored.contains(base + 5 * PAGE), "written page stored: " + stored);
    assertFalse(stored.contains(base + 4 * PAGE), "unwritten page not stored");
    assertFalse(stored.contains(base + 6 * PAGE), "zero page not stored");
    assertTrue(images.zeroRuns().stream().anyMatch(r -> r.getVaddr() <= base + 6 * PAGE
        && base + 6 * PAGE < r.getVaddr() + r.getNrPages() * PAGE), "zeroed page recorded");

    p.memory().unmap(base, 64 * PAGE);
    a.kill(p.pid());
    SimProcess restored = Scenarios.restore(a, second);
    assertEquals(99, restored.memory().readLong(base + 5 * PAGE));
    assertEquals(5, restored.memory().readLong(base + 4 * PAGE));
    assertEquals(0, restored.memory().readLong(base + 6 * PAGE));
    assertEquals(64, restored.memory().readLong(base + 63 * PAGE));
  }

  @Test
  void aMappingReplacedBetweenLinksDoesNotShowItsParentsPages() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    long base = 0x5000_0000L;
    p.memory().mapAnonymous(base, 8 * PAGE, Prot.RW, "old");
    p.memory().writeLong(base, 1);
    p.memory().writeLong(base + PAGE, 2);
    Path first = tmp.resolve("first");
    new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), first, DumpOptions.defaults(),
        ProgressListener.NONE);
    p.memory().unmap(base, 8 * PAGE);
    p.memory().mapAnonymous(base, 8 * PAGE, Prot.RW, "new");
    p.memory().writeLong(base, 3);
    Path second = tmp.resolve("second");
    new Dumper(a, Scenarios.plugins(a)).withParent(first, UnaryOperator.identity())
        .dump(p.pid(), second, DumpOptions.defaults(), ProgressListener.NONE);
    SimProcess restored = Scenarios.restore(a, second);
    assertEquals(3, restored.memory().readLong(base));
    assertEquals(0, restored.memory().readLong(base + PAGE), "the old mapping's page is gone");
  }

  @Test
  void aDumpWhoseProcessWasNotTrackedSinceTheParentStoresEveryPage() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    Scenarios.step(p, 3);
    Path full = tmp.resolve("full");
    Scenarios.dump(a, p, full, DumpOptions.defaults().withLeaveRunning(true));
    Scenarios.step(p, 3);
    // Another full dump that leaves it running: its writes are now tracked since that one.
    Scenarios.dump(a, p, tmp.resolve("other"), DumpOptions.defaults().withLeaveRunning(true));
    Scenarios.step(p, 3);
    Path next = tmp.resolve("next");
    new Dumper(a, Scenarios.plugins(a)).withParent(full, UnaryOperator.identity())
        .dump(p.pid(), next, DumpOptions.defaults().withLeaveRunning(true),
            ProgressListener.NONE);
    assertEquals(p.memory().residentPages() - 0, storedPages(ImageSet.read(next).processes()
        .get(p.pid())).size() + ImageSet.read(next).stats().getPagesSkippedZero());
  }

  @Test
  void aFailedIncrementalDumpKeepsTheWrittenPagesForTheNextOne() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    long base = 0x5000_0000L;
    p.memory().mapAnonymous(base, 8 * PAGE, Prot.RW, "test");
    Path first = tmp.resolve("first");
    new Dumper(a, Scenarios.plugins(a)).preDump(p.pid(), first, DumpOptions.defaults(),
        ProgressListener.NONE);
    p.memory().writeLong(base + 2 * PAGE, 42);
    Path failed = tmp.resolve("failed");
    AccrException e = org.junit.jupiter.api.Assertions.assertThrows(AccrException.class, () ->
        new Dumper(a, PluginHost.of(List.of(new FailingLatePlugin("late failure"))))
            .withParent(first, UnaryOperator.identity()).dump(p.pid(), failed,
                DumpOptions.defaults().withLeaveRunning(true), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("late failure"), e.getMessage());
    assertFalse(java.nio.file.Files.exists(failed));
    Dumper incremental = new Dumper(a, Scenarios.plugins(a)).withParent(first,
        UnaryOperator.identity());
    Path second = tmp.resolve("second");
    incremental.dump(p.pid(), second, DumpOptions.defaults(), ProgressListener.NONE);
    assertEquals(42, Scenarios.restore(a, second).memory().readLong(base + 2 * PAGE));
  }

  private static TreeSet<Long> storedPages(ImageSet.ProcessImages images) {
    TreeSet<Long> pages = new TreeSet<>();
    for (PageChunkEntry c : images.chunks()) {
      for (PageRun r : c.getRunsList()) {
        for (int i = 0; i < r.getNrPages(); i++) {
          pages.add(r.getVaddr() + i * PAGE);
        }
      }
    }
    return pages;
  }

  private List<String> with(List<String> args, String out) {
    List<String> all = new ArrayList<>(args);
    all.add("--out");
    all.add(tmp.resolve(out).toString());
    return all;
  }

  /**
   * A full dump that leaves the process running starts tracking, so a dump with it as parent
   * stores only what was written; a restored process tracks only with --track-mem: without
   * it a dump with the restored set as parent is refused (exit 1, the process runs on).
   */
  @Test
  void tracksAfterDashRAndAfterARestoreOnlyWhenAsked() throws Exception {
    List<String> args = List.of("--mem-mib", "2", "--steps", "100", "--pages-per-step", "8");
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    SimProcess p = a.create("counter", with(args, "t.out"), tmp, 0);
    Scenarios.step(p, 40);
    DumpOptions running = DumpOptions.defaults().withLeaveRunning(true);
    Path full = tmp.resolve("full");
    long fullPages = new Dumper(a, Scenarios.plugins(a))
        .dump(p.pid(), full, running, ProgressListener.NONE).getPagesWritten();
    Scenarios.step(p, 2);
    Path link = tmp.resolve("link");
    long linkPages = new Dumper(a, Scenarios.plugins(a)).withParent(full, UnaryOperator.identity())
        .dump(p.pid(), link, DumpOptions.defaults(), ProgressListener.NONE).getPagesWritten();
    assertTrue(linkPages > 0 && linkPages * 4 < fullPages, linkPages + " of " + fullPages);

    SimProcess untracked = Scenarios.restore(b, link);
    Scenarios.step(untracked, 3);
    AccrException e = assertThrows(AccrException.class, () -> new Dumper(b,
        Scenarios.plugins(b)).withParent(link, UnaryOperator.identity())
        .dump(untracked.pid(), tmp.resolve("refused"), running, ProgressListener.NONE));
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().contains("--track-mem"), e.getMessage());
    assertTrue(untracked.stepInline(), "the process runs on");
    b.kill(untracked.pid());

    SimProcess tracked = Scenarios.restore(b, link, RestoreOptions.defaults().withTrackMem(true));
    Scenarios.step(tracked, 2);
    long afterRestore = new Dumper(b, Scenarios.plugins(b)).withParent(link,
        UnaryOperator.identity()).dump(tracked.pid(), tmp.resolve("after"), running,
        ProgressListener.NONE).getPagesWritten();
    assertTrue(afterRestore > 0 && afterRestore * 4 < fullPages, afterRestore + " of " + fullPages);
  }
}

package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.ProcessDigest;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rounds of a chain loaded ahead of its restore ({@link StagedChain}): the restore reads only
 * the links after them and adopts the staged pages, and ends with the digest of a restore that
 * reads every link (and of an uninterrupted run); a stage that does not hold the chain's
 * oldest links is not used; a stage's memory counts in the node's and is freed whole.
 */
class StagedChainTest {
  private static final long PAGE = MemoryView.PAGE_SIZE;
  @TempDir Path tmp;

  @Test
  void stagedRoundsAreAdoptedAndTheRunEndsWithTheUninterruptedDigest() throws Exception {
    List<String> args = List.of("--mem-mib", "2", "--steps", "60", "--seed", "5",
        "--pages-per-step", "12");
    Node a = Scenarios.node("a");
    String expected = Scenarios.uninterrupted(a, "counter", with(args, "plain.out"), tmp);
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    List<Path> rounds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Scenarios.step(p, 7 + i);
      rounds.add(preDump(a, p, "r" + i, i == 0 ? null : rounds.getLast()));
    }
    Scenarios.step(p, 5);
    Path last = tmp.resolve("final");
    new Dumper(a, Scenarios.plugins(a)).withParent(rounds.getLast(), UnaryOperator.identity())
        .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);

    Node b = Scenarios.node("b");
    long before = b.memory().residentPages();
    try (StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      for (Path r : rounds) {
        stage.stage(r);
      }
      assertTrue(stage.pages() > 0, "the rounds hold pages");
      assertEquals(stage.pages(), b.memory().stagedPages(), "staged pages count on the node");
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(3, plan.stagedLinks());
      Restorer.Result r = restorer.recreate(plan);
      assertEquals(0, b.memory().stagedPages(), "every staged page adopted or let go");
      assertEquals(pagesBytes(last), r.bytesRead(), "only the last link was read");
      assertEquals(expected, Scenarios.finish(b, r.process()));
    }
    assertEquals(before, b.memory().residentPages(), "nothing held once the process is gone");
  }

  /**
   * A page written again in a later round has the later round's contents; a mapping replaced
   * between rounds shows none of the old one's pages; a mapping gone at the stop is not
   * mapped: as a restore that reads every link has it.
   */
  @Test
  void pagesRewrittenAndMappingsReplacedBetweenRoundsAreAsTheChainHasThem() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    long kept = 0x5000_0000L;
    long replaced = 0x6000_0000L;
    long gone = 0x7000_0000L;
    p.memory().mapAnonymous(kept, 64 * PAGE, Prot.RW, "kept");
    p.memory().mapAnonymous(replaced, 8 * PAGE, Prot.RW, "replaced");
    p.memory().mapAnonymous(gone, 8 * PAGE, Prot.RW, "gone");
    for (int i = 0; i < 64; i++) {
      p.memory().writeLong(kept + i * PAGE, i + 1);
    }
    p.memory().writeLong(replaced, 7);
    p.memory().writeLong(gone, 8);
    Path r0 = preDump(a, p, "r0", null);
    p.memory().writeLong(kept + PAGE, 22);
    p.memory().unmap(replaced, 8 * PAGE);
    p.memory().mapAnonymous(replaced, 8 * PAGE, Prot.RW, "new");
    p.memory().writeLong(replaced + PAGE, 9);
    Path r1 = preDump(a, p, "r1", r0);
    p.memory().writeLong(kept + 2 * PAGE, 33);
    p.memory().writeLong(kept + 3 * PAGE, 0); // written, zero now: replaced, not stored
    p.memory().unmap(gone, 8 * PAGE);
    Path last = tmp.resolve("final");
    new Dumper(a, Scenarios.plugins(a)).withParent(r1, UnaryOperator.identity())
        .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);

    Node b = Scenarios.node("b");
    SimProcess staged;
    try (StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      stage.stage(r0);
      stage.stage(r1);
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(2, plan.stagedLinks());
      staged = restorer.recreate(plan).process();
    }
    SimProcess read = Scenarios.restore(Scenarios.node("c"), last);
    MemoryView m = staged.memory();
    assertEquals(1, m.readLong(kept));
    assertEquals(22, m.readLong(kept + PAGE), "rewritten in the second round");
    assertEquals(33, m.readLong(kept + 2 * PAGE), "rewritten after the rounds");
    assertEquals(0, m.readLong(kept + 3 * PAGE), "zero at the stop");
    assertEquals(64, m.readLong(kept + 63 * PAGE));
    assertEquals(0, m.readLong(replaced), "the replaced mapping's page is gone");
    assertEquals(9, m.readLong(replaced + PAGE));
    assertEquals(null, staged.memory().find(gone), "unmapped before the stop");
    assertEquals(ProcessDigest.of(read), ProcessDigest.of(staged));
    assertEquals(read.memory().residentPages(), staged.memory().residentPages());
  }

  /** Rounds of another chain, or out of order: the restore reads every link itself. */
  @Test
  void aStageThatIsNotTheChainsOldestLinksIsNotUsed() throws Exception {
    List<String> args = List.of("--mem-mib", "1", "--steps", "40", "--seed", "3",
        "--pages-per-step", "8");
    Node a = Scenarios.node("a");
    String expected = Scenarios.uninterrupted(a, "counter", with(args, "plain.out"), tmp);
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    SimProcess other = a.create("counter", with(args, "other.out"), tmp, 0);
    Scenarios.step(p, 5);
    Scenarios.step(other, 5);
    Path r0 = preDump(a, p, "r0", null);
    Path otherR0 = preDump(a, other, "other-r0", null);
    Scenarios.step(p, 5);
    Path r1 = preDump(a, p, "r1", r0);
    Path last = tmp.resolve("final");
    new Dumper(a, Scenarios.plugins(a)).withParent(r1, UnaryOperator.identity())
        .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);

    Node b = Scenarios.node("b");
    try (StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      assertThrows(IOException.class, () -> stage.stage(r1), "r1 does not begin a chain");
      assertEquals(0, b.memory().stagedPages(), "a round that does not follow empties it");
      stage.stage(otherR0);
      assertTrue(stage.pages() > 0);
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(0, plan.stagedLinks(), "another chain's round");
      Restorer.Result r = restorer.recreate(plan);
      assertTrue(r.bytesRead() > pagesBytes(last), "every link was read");
      assertEquals(expected, Scenarios.finish(b, r.process()));
    }
    assertEquals(0, b.memory().stagedPages());
  }

  /** Closing a stage gives its memory back, and while it holds it the node counts it. */
  @Test
  void aClosedStageLeavesNothingAndAHeldOneLeavesLessRoom() throws Exception {
    List<String> args = List.of("--mem-mib", "4", "--steps", "40", "--seed", "3",
        "--pages-per-step", "8");
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    Scenarios.step(p, 5);
    Path r0 = preDump(a, p, "r0", null);
    Scenarios.step(p, 5);
    Path r1 = preDump(a, p, "r1", r0);
    Node b = Scenarios.node("b");
    long resident = b.memory().residentPages();
    long reserved = b.memory().reservedBytes();
    StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2);
    stage.stage(r0);
    stage.stage(r1);
    long staged = stage.pages();
    assertTrue(staged > 0, "the rounds hold pages");
    assertEquals(resident + staged, b.memory().residentPages());
    long room = b.memoryLimit() - staged * PAGE;
    b.checkRoom("a check", room, null);
    assertThrows(dev.accr.api.AccrException.class,
        () -> b.checkRoom("a check", room + PAGE, null), "the staged pages count as held");
    stage.close();
    assertEquals(resident, b.memory().residentPages());
    assertEquals(reserved, b.memory().reservedBytes());
    assertEquals(0, b.memory().stagedPages());
    assertThrows(java.util.concurrent.CancellationException.class, () -> stage.stage(r0));
  }

  /**
   * A stage the restore does not use gives its pages back before the restore checks for room:
   * the restore fits where it fit without a stage.
   */
  @Test
  void anUnusedStageDoesNotTakeTheRoomOfTheRestore() throws Exception {
    List<String> args = List.of("--mem-mib", "1", "--steps", "40", "--seed", "3",
        "--pages-per-step", "8");
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(args, "cr.out"), tmp, 0);
    SimProcess other = a.create("counter", with(args, "other.out"), tmp, 0);
    Scenarios.step(p, 5);
    Scenarios.step(other, 5);
    Path r0 = preDump(a, p, "r0", null);
    Path otherR0 = preDump(a, other, "other-r0", null);
    Scenarios.step(p, 5);
    Path last = tmp.resolve("final");
    new Dumper(a, Scenarios.plugins(a)).withParent(r0, UnaryOperator.identity())
        .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);
    long needed = Scenarios.restore(Scenarios.node("c"), last).memory().residentPages();

    try (Node b = limited("b", needed);
        StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      stage.stage(otherR0);
      assertTrue(stage.pages() > 0);
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(0, plan.stagedLinks(), "another chain's round");
      assertEquals(0, b.memory().stagedPages(), "its pages given back");
      assertEquals(needed, restorer.recreate(plan).process().memory().residentPages());
    }
  }

  /** The rounds of a tree that maps shared memory are not staged: its restore reads them. */
  @Test
  void aSetThatMapsSharedMemoryStagesNoPages() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    p.memory().mapShared(0x5000_0000L, 4 * PAGE, Prot.RW, "shm");
    p.memory().mapAnonymous(0x6000_0000L, 4 * PAGE, Prot.RW, "private");
    p.memory().writeLong(0x5000_0000L, 5);
    p.memory().writeLong(0x6000_0000L, 6);
    Path r0 = preDump(a, p, "r0", null);
    Node b = Scenarios.node("b");
    try (StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      stage.stage(r0);
      assertEquals(1, stage.ids().size(), "the round follows");
      assertEquals(0, stage.pages(), "no host page held for a restore that cannot adopt it");
      assertEquals(0, b.memory().stagedPages());
    }
  }

  /**
   * Staged pages that a newer link replaces, or that lie outside the newest link's mappings,
   * are not adopted: the restore needs room for the pages that replace them.
   */
  @Test
  void theRoomARestoreNeedsCountsOnlyTheStagedPagesItAdopts() throws Exception {
    Node a = Scenarios.node("a");
    SimProcess p = a.create("counter", with(List.of("--steps", "1000"), "o.out"), tmp, 0);
    long kept = 0x5000_0000L;
    long gone = 0x7000_0000L;
    p.memory().mapAnonymous(kept, 16 * PAGE, Prot.RW, "kept");
    p.memory().mapAnonymous(gone, 8 * PAGE, Prot.RW, "gone");
    for (int i = 0; i < 16; i++) {
      p.memory().writeLong(kept + i * PAGE, i + 1);
    }
    for (int i = 0; i < 8; i++) {
      p.memory().writeLong(gone + i * PAGE, i + 1);
    }
    Path r0 = preDump(a, p, "r0", null);
    for (int i = 0; i < 8; i++) {
      p.memory().writeLong(kept + i * PAGE, 100 + i); // stored again by the last link
    }
    p.memory().unmap(gone, 8 * PAGE);
    Path last = tmp.resolve("final");
    new Dumper(a, Scenarios.plugins(a)).withParent(r0, UnaryOperator.identity())
        .dump(p.pid(), last, DumpOptions.defaults(), ProgressListener.NONE);
    long needed = Scenarios.restore(Scenarios.node("c"), last).memory().residentPages();
    long staged;
    Node d = Scenarios.node("d");
    try (StagedChain probe = new StagedChain(d, Scenarios.plugins(d), 2)) {
      probe.stage(r0);
      staged = probe.pages();
    }
    // One page of room past the stage and the pages it lacks: the staged pages that are not
    // adopted (16 of them) need theirs again, while they are held.
    try (Node b = limited("b", staged + Math.max(0, needed - staged) + 1);
        StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      stage.stage(r0);
      assertEquals(staged, stage.pages());
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      dev.accr.api.AccrException e = assertThrows(dev.accr.api.AccrException.class,
          () -> restorer.plan(last, inline(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }
    try (Node b = limited("b", staged + needed);
        StagedChain stage = new StagedChain(b, Scenarios.plugins(b), 2)) {
      stage.stage(r0);
      Restorer restorer = new Restorer(b, Scenarios.plugins(b)).withStage(stage);
      RestorePlan plan = restorer.plan(last, inline(), ProgressListener.NONE);
      assertEquals(1, plan.stagedLinks());
      SimProcess q = restorer.recreate(plan).process();
      assertEquals(9, q.memory().readLong(kept + 8 * PAGE), "a staged page adopted");
      assertEquals(100, q.memory().readLong(kept));
      assertEquals(needed, q.memory().residentPages());
    }
  }

  /** A node of the class path's registry that may hold {@code pages} pages at most. */
  private static Node limited(String name, long pages) {
    Node plain = Scenarios.node(name);
    return new Node(name, plain.topology(), plain.registry(),
        dev.accr.kernel.NodeLimits.defaults().withMemoryBytes(pages * PAGE));
  }

  private Path preDump(Node node, SimProcess p, String name, Path parent)
      throws IOException {
    Path dir = tmp.resolve(name);
    new Dumper(node, Scenarios.plugins(node)).withParent(parent, UnaryOperator.identity())
        .preDump(p.pid(), dir, DumpOptions.defaults().withThreads(2), ProgressListener.NONE);
    return dir;
  }

  private static RestoreOptions inline() {
    return RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE);
  }

  /** Bytes of the set's pages files. */
  private static long pagesBytes(Path set) throws IOException {
    try (Stream<Path> files = Files.list(set)) {
      return files.filter(f -> f.getFileName().toString().startsWith("pages-"))
          .mapToLong(f -> {
            try {
              return Files.size(f);
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }).sum();
    }
  }

  private List<String> with(List<String> args, String out) {
    List<String> all = new ArrayList<>(args);
    all.add("--out");
    all.add(tmp.resolve(out).toString());
    return all;
  }
}

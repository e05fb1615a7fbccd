package dev.accr.engine;

import static dev.accr.testkit.ImageDamage.flipBit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LazyRestoreTest {
  private static final List<String> ARGS = List.of("--mem-mib", "4", "--steps", "30", "--seed",
      "11", "--pages-per-step", "48");

  @TempDir Path tmp;

  @ParameterizedTest(name = "dump after {0} steps, {1}, {2}")
  @CsvSource({"3, none, CHECKED", "13, zstd, UNCHECKED"})
  void aLazilyRestoredRunEndsWithTheDigestOfAnUninterruptedRun(int dumpAt, String compress,
      RestoreOptions.Lazy mode) throws Exception {
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    String expected = Scenarios.uninterrupted(a, "counter", withOut("plain.out"), tmp);
    Path dir = dumpAfter(a, dumpAt, compress);

    // Stepped on this thread while the pusher loads on its own: faults and pushes race, on
    // the same chunks too (4-page chunks, each step touching dozens of pages).
    Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
        RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE)
            .withLazy(mode), ProgressListener.NONE);
    SimProcess p = r.process();
    Scenarios.step(p, 1000);
    LazyRestore.Progress done = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
    assertTrue(done.done(), "every page is in: " + done);
    assertEquals("", done.failure());
    assertTrue(done.pagesTotal() > 0);
    assertEquals(done.pagesTotal(), done.pagesFaulted() + done.pagesPushed(),
        "each page loaded once, by a fault or by the pusher: " + done);
    assertEquals(null, p.memory().pageFaults(), "the lazy state is gone once all is in");
    assertEquals(expected, Scenarios.finish(b, p));
    assertEquals(Files.readString(tmp.resolve("plain.out")),
        Files.readString(tmp.resolve("cr.out")));
  }

  @Test
  void aDamagedChunkFoundAfterTheProcessRunsKillsItWithTheReason() throws Exception {
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    Path dir = dumpAfter(a, 20, "none");
    damagePages(dir);

    Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
        RestoreOptions.defaults().withThreads(2).withLazy(RestoreOptions.Lazy.UNCHECKED),
        ProgressListener.NONE);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> r.process().exitFuture().get(60, TimeUnit.SECONDS));
    String message = e.getCause().getMessage();
    assertTrue(message.contains("lazy restore") && message.contains("pages-")
        && message.contains("checksum"), message);
    LazyRestore.Progress end = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
    assertFalse(end.done());
    assertTrue(end.failure().contains("checksum"), end.failure());
  }

  @Test
  void aDamagedChunkFailsALazyRestoreThatChecksFirstAndLeavesNothing() throws Exception {
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    Path dir = dumpAfter(a, 20, "none");
    damagePages(dir);
    int pid = dev.accr.engine.ImageSet.read(dir).processes().keySet().iterator().next();
    CorruptImageException e = assertThrows(CorruptImageException.class,
        () -> new Restorer(b, Scenarios.plugins(b)).restore(dir, RestoreOptions.defaults()
            .withLazy(RestoreOptions.Lazy.CHECKED), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("pages-"), e.getMessage());
    assertFalse(b.hasPid(pid));
    assertEquals(0, b.memory().residentPages());
  }

  @Test
  void aProcessOfATreeThatEndsBeforeItsPagesAreInLeavesTheOthersLoadingAndRunning()
      throws Exception {
    Node b = Scenarios.node("b");
    SimProcess root = b.create("counter", withOut("root.out"), tmp, 0);
    SimProcess member = b.create("counter", withOut("member.out"), tmp, 0);
    long base = 0x6000_0000_0000L;
    for (SimProcess p : List.of(root, member)) {
      p.memory().mapAnonymous(base, 4L * MemoryView.PAGE_SIZE, Prot.READ | Prot.WRITE, "lazy");
    }
    LazyRestore lazy = new LazyRestore(root, b, new OnePageUnits(base, 4), false);
    lazy.addProcess(member, new OnePageUnits(base, 4));
    member.killFrozen(); // it ends before the pusher loaded any of its pages
    lazy.start();
    LazyRestore.Progress end = lazy.await(TimeUnit.SECONDS.toMillis(60));
    assertEquals("", end.failure(), end.toString());
    assertTrue(end.done(), end.toString());
    assertTrue(root.state() != SimProcess.State.EXITED, "the root lives on: " + root.state());
    assertEquals(4, end.pagesPushed(), "the root's pages are in: " + end);
    root.killFrozen();
  }

  /** Units of one page each from {@code base}, every byte of a page its unit's number. */
  private record OnePageUnits(long base, int pages) implements PageSource {
    @Override
    public List<List<Run>> units() {
      return java.util.stream.IntStream.range(0, pages)
          .mapToObj(i -> List.of(new Run(base + (long) i * MemoryView.PAGE_SIZE, 1))).toList();
    }

    @Override
    public void load(int unit, RunSink sink) {
      MemorySegment page = Arena.ofAuto().allocate(MemoryView.PAGE_SIZE);
      page.fill((byte) (unit + 1));
      sink.accept(units().get(unit).getFirst(), page, 0);
    }

    @Override
    public String describe() {
      return "test units";
    }

    @Override
    public void close() {}
  }

  private Path dumpAfter(Node a, int steps, String compress) throws Exception {
    SimProcess p = a.create("counter", withOut("cr.out"), tmp, 0);
    Scenarios.step(p, steps);
    Path dir = tmp.resolve("img");
    // One writer: chunks in address order, so the last one holds the visits table, which the
    // program's restore check does not read (a damaged chunk is then found once it runs).
    Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(1)
        .withCompression(Compression.parse(compress)).withChunkPages(4));
    return dir;
  }

  /** Flips a bit in the last chunk's payload of the pages file. */
  private static void damagePages(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      Path pages = files.filter(f -> f.getFileName().toString().startsWith("pages-"))
          .findFirst().orElseThrow();
      byte[] bytes = Files.readAllBytes(pages);
      Files.write(pages, flipBit(bytes, bytes.length - 200, 2));
    }
  }

  private List<String> withOut(String out) {
    return Stream.concat(ARGS.stream(), Stream.of("--out", tmp.resolve(out).toString())).toList();
  }
}

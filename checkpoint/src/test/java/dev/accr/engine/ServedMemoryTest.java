package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.RemoteBulk;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Post-copy without the network: a dump that leaves the memory with the stopped process, a
 * restore elsewhere that takes each unit from it on first touch or push, and a source that
 * stops serving midway.
 */
class ServedMemoryTest {
  private static final List<String> ARGS = List.of("--mem-mib", "4", "--steps", "30", "--seed",
      "7", "--pages-per-step", "48");

  @TempDir Path tmp;

  @Test
  void aProcessRestoredFromServedMemoryEndsWithTheDigestOfAnUninterruptedRun() throws Exception {
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    String expected = Scenarios.uninterrupted(a, "counter", ARGS, tmp);
    ServedMemory served = dumpServing(a, 9);
    assertTrue(served.hostUnits().size() > 1, "several units: " + served.hostUnits().size());
    for (int u = 0; u < served.hostUnits().size(); u++) {
      assertTrue(served.pagesOf(u) <= ServedMemory.UNIT_PAGES);
    }
    Restorer.Result r = restore(b, served, new AtomicInteger(Integer.MAX_VALUE));
    String digest = Scenarios.finish(b, r.process());
    LazyRestore.Progress end = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
    assertTrue(end.done(), end.toString());
    assertEquals(end.pagesTotal(), end.pagesFaulted() + end.pagesPushed(), end.toString());
    assertEquals(expected, digest);
  }

  @Test
  void aSourceThatStopsServingGetsTheProcessKilledWithTheReason() throws Exception {
    Node a = Scenarios.node("a");
    Node b = Scenarios.node("b");
    ServedMemory served = dumpServing(a, 9);
    Restorer.Result r = restore(b, served, new AtomicInteger(1));
    SimProcess p = r.process();
    // The touching step fails, or the pusher finds the broken source first and kills it.
    Exception e = assertThrows(Exception.class, () -> {
      Scenarios.step(p, 100);
      p.exitFuture().get(60, TimeUnit.SECONDS);
    });
    String message = e instanceof ExecutionException ? e.getCause().getMessage()
        : e.getMessage();
    if (!message.contains("the link to node a broke")) {
      // Killed by the pusher before a step touched a missing page: it no longer steps, and
      // its end carries the reason.
      ExecutionException ended = assertThrows(ExecutionException.class,
          () -> p.exitFuture().get(60, TimeUnit.SECONDS));
      message = ended.getCause().getMessage();
    }
    assertTrue(message.contains("the link to node a broke"), message);
    LazyRestore.Progress end = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
    assertFalse(end.done());
    assertTrue(end.failure().contains("the link to node a broke"), end.failure());
  }

  @Test
  void thePagesOfSmallMappingsComeFirstAsEagerUnitsAndTheOthersAfter() throws Exception {
    Node a = Scenarios.node("a");
    ServedMemory served = dumpServing(a, 9);
    SimProcess p = a.process(served.pid());
    List<Integer> eager = served.eagerUnits();
    assertTrue(!eager.isEmpty() && eager.size() < served.hostUnits().size(),
        "eager units: " + eager);
    for (int u = 0; u < served.hostUnits().size(); u++) {
      for (PageSource.Run r : served.hostUnits().get(u)) {
        long touched = p.memory().find(r.vaddr()).touchedPages();
        assertEquals(u < eager.size(), touched <= ServedMemory.EAGER_VMA_PAGES,
            "unit " + u + " of " + eager + " eager: a run in a mapping of " + touched
                + " touched pages");
      }
    }
  }

  @Test
  void aTreesEagerUnitsAreEveryProcesssSmallMappingsAndItsSharedOnes() throws Exception {
    Node a = Scenarios.node("a");
    java.nio.file.Files.createDirectories(tmp.resolve("chain"));
    SimProcess root = a.create("pipe-chain", List.of("--stages", "3", "--steps", "12", "--seed",
        "11", "--mem-mib", "1", "--out", tmp.resolve("chain/out").toString()),
        tmp.resolve("chain"), 0);
    Scenarios.step(a, root, 3);
    ServedMemory served = new ServedMemory();
    new Dumper(a, Scenarios.plugins(a)).servingMemory(served).dump(root.pid(),
        tmp.resolve("tree"), DumpOptions.defaults().withLeaveStopped(true),
        ProgressListener.NONE);
    List<Integer> eager = served.eagerUnits();
    java.util.Set<Integer> owners = new java.util.HashSet<>();
    for (int u = 0; u < served.hostUnits().size(); u++) {
      SimProcess p = a.process(served.pidOf(u));
      for (PageSource.Run r : served.hostUnits().get(u)) {
        var vma = p.memory().find(r.vaddr());
        boolean early = vma.touchedPages() <= ServedMemory.EAGER_VMA_PAGES
            || vma.shared() != null;
        assertEquals(early, eager.contains(u), "unit " + u + " of process " + p.pid()
            + ": a run in a mapping of " + vma.touchedPages() + " touched pages");
      }
      if (eager.contains(u)) {
        owners.add(p.pid());
      }
    }
    assertEquals(4, owners.size(), "the root's and each stage's: " + owners);
    served.close();
  }

  /** Runs a counter {@code steps} steps on {@code a} and dumps it for post-copy. */
  private ServedMemory dumpServing(Node a, int steps) throws IOException {
    SimProcess p = a.create("counter", ARGS, tmp, 0);
    Scenarios.step(p, steps);
    ServedMemory served = new ServedMemory();
    new Dumper(a, Scenarios.plugins(a)).servingMemory(served).dump(p.pid(),
        tmp.resolve("meta"), DumpOptions.defaults().withLeaveStopped(true),
        ProgressListener.NONE);
    assertFalse(p.state() == SimProcess.State.EXITED, "kept, its memory served");
    assertEquals(0, ImageSet.read(tmp.resolve("meta")).processes().get(p.pid()).chunks().size(),
        "the set holds no pages");
    return served;
  }

  /** Restores the metadata on {@code b}, its pages served from {@code served} ({@code left} units). */
  private Restorer.Result restore(Node b, ServedMemory served, AtomicInteger left)
      throws IOException {
    RemoteMemory remote = new RemoteMemory() {
      @Override
      public PageSource hostPages(int pid) {
        return new PageSource() {
          @Override
          public List<List<Run>> units() {
            return served.hostUnits();
          }

          @Override
          public void load(int unit, RunSink sink) throws IOException {
            if (left.decrementAndGet() < 0) {
              throw new IOException("the link to node a broke");
            }
            MemorySegment data = Arena.ofAuto().allocate(served.pagesOf(unit) * 4096L);
            served.readHost(unit, data);
            long at = 0;
            for (Run r : units().get(unit)) {
              sink.accept(r, data, at);
              at += r.pages() * 4096L;
            }
          }

          @Override
          public String describe() {
            return "node a";
          }

          @Override
          public void close() {}
        };
      }

      @Override
      public RemoteBulk bulk() {
        return (plugin, what, id) -> null;
      }
    };
    return new Restorer(b, Scenarios.plugins(b)).withRemoteMemory(remote).restore(
        tmp.resolve("meta"), RestoreOptions.defaults().withStart(RestoreOptions.Start.INLINE)
            .withLazy(RestoreOptions.Lazy.UNCHECKED), ProgressListener.NONE);
  }
}

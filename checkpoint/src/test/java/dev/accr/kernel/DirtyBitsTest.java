package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DirtyBitsTest {
  private static final int PAGES = 3 * 512 + 100;
  private final FramePool pool = new FramePool(new NodeMemory());

  @AfterEach
  void free() {
    pool.close();
  }

  @Test
  void marksReadByTheWordAgreeWithMarksOfSinglePages() {
    SplittableRandom random = new SplittableRandom(5);
    PageTable t = new PageTable(PAGES, pool);
    t.fillAbsent(0, PAGES, pool.allocateBlock(PAGES)); // every page touched
    assertNull(t.dirtyBits().swap(true), "nothing was tracked before");
    TreeSet<Long> written = new TreeSet<>();
    for (int k = 0; k < 40; k++) {
      long first = random.nextLong(PAGES);
      long count = Math.min(PAGES - first, random.nextInt(1, k % 4 == 0 ? 200 : 3));
      t.dirtyBits().mark(first, count);
      for (long i = first; i < first + count; i++) {
        written.add(i);
      }
    }
    long[][] bits = t.dirtyBits().swap(true);

    List<Long> runs = new ArrayList<>();
    DirtyBits.forEachRun(bits, (first, pages) -> {
      runs.add(first);
      runs.add(pages);
    });
    assertEquals(runsOf(written), runs);
    assertEquals(written.size(), DirtyBits.count(bits));
    for (long i = 0; i < PAGES; i++) {
      Long next = written.ceiling(i);
      assertEquals(next == null ? -1 : next, t.dirtyBits().next(bits, i), "next from " + i);
      int expected = 0;
      while (written.contains(i + expected) && expected < 700) {
        expected++;
      }
      assertEquals(Math.min(expected, 700), DirtyBits.run(bits, i, 700), "run from " + i);
      assertEquals(Math.min(expected, 5), DirtyBits.run(bits, i, 5), "capped run from " + i);
    }
  }

  @Test
  void nextSkipsWrittenPagesThatHaveNoFrame() {
    PageTable t = new PageTable(PAGES, pool);
    t.install(700);
    t.dirtyBits().swap(true);
    t.dirtyBits().mark(10, 600); // table 0 was never touched: its bitmap is not read
    t.dirtyBits().mark(700);
    long[][] bits = t.dirtyBits().swap(false);
    assertEquals(700, t.dirtyBits().next(bits, 0));
    assertEquals(-1, t.dirtyBits().next(bits, 701));
    assertEquals(600, DirtyBits.run(bits, 10, 1000), "written pages, touched or not");
  }

  @Test
  void frameRunsFollowRunsOfFramesAcrossTables() {
    PageTable t = new PageTable(PAGES, pool);
    long block = pool.allocateBlock(1000);
    t.fillAbsent(100, 1000, block); // pages 100 .. 1099, over three tables
    t.install(1100); // a frame of its own
    assertEquals(1000, t.frameRun(100, 5000));
    assertEquals(300, t.frameRun(800, 300));
    assertEquals(299, t.frameRun(801, 5000));
    assertEquals(1, t.frameRun(1100, 5000));
    assertEquals(0, t.frameRun(99, 5000));
  }

  private static List<Long> runsOf(TreeSet<Long> pages) {
    List<Long> out = new ArrayList<>();
    long start = -1;
    long length = 0;
    for (long p : pages) {
      if (length > 0 && p == start + length) {
        length++;
        continue;
      }
      if (length > 0) {
        out.add(start);
        out.add(length);
      }
      start = p;
      length = 1;
    }
    if (length > 0) {
      out.add(start);
      out.add(length);
    }
    return out;
  }
}

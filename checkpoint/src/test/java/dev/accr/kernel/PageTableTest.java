package dev.accr.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PageTableTest {
  private final FramePool pool = new FramePool(new NodeMemory());

  @AfterEach
  void free() {
    pool.close();
  }

  /** Gives page {@code index} a fresh frame holding {@code index}. */
  private void touch(PageTable t, long index) {
    t.install(index).set(JAVA_LONG, 0, index);
  }

  @Test
  void untouchedPagesHaveNoFrameAndTouchedPagesKeepTheirs() {
    PageTable t = new PageTable(2048, pool);
    assertEquals(2048, t.pages());
    touch(t, 511); // last entry of the first second-level table
    touch(t, 512); // first entry of the second
    assertEquals(511, t.get(511).get(JAVA_LONG, 0));
    assertEquals(512, t.get(512).get(JAVA_LONG, 0));
    assertNull(t.get(510));
    assertNull(t.get(513));
    assertNull(t.get(2047), "a table that was never touched");
    assertEquals(511, t.install(511).get(JAVA_LONG, 0), "a touched page keeps its frame");
    assertEquals(0, t.fillAbsent(511, 2, pool.allocateBlock(2)), "present pages keep theirs");
    assertEquals(511, t.get(511).get(JAVA_LONG, 0));
  }

  @Test
  void forEachVisitsTouchedPagesOnlyInIndexOrder() {
    PageTable t = new PageTable(5000, pool);
    long[] indices = {4999, 0, 1023, 512, 3, 1024};
    for (long i : indices) {
      touch(t, i);
    }
    List<Long> seen = new ArrayList<>();
    t.forEach((index, f) -> {
      assertEquals(index, f.get(JAVA_LONG, 0), "each page is visited with its own frame");
      seen.add(index);
    });
    assertEquals(List.of(0L, 3L, 512L, 1023L, 1024L, 4999L), seen);
  }

  @Test
  void runsOfFramesStayRunsUntilTooManyAndThenEveryPageKeepsItsFrame() {
    PageTable t = new PageTable(1024, pool);
    for (long i = 0; i < 512; i++) { // first touches in address order: frames follow each other
      touch(t, i);
    }
    assertTrue(t.keptAsRuns(0), "a run per region of the pool");
    assertEquals(16, t.frameRun(0, 4096), "the first region holds 16 frames");
    // A restore's runs: blocks of frames, given in any order.
    for (int r = 7; r >= 0; r--) {
      long block = pool.allocateBlock(64);
      assertEquals(64, t.fillAbsent(512 + r * 64L, 64, block));
      pool.frames(block, 64).fill((byte) r);
    }
    assertTrue(t.keptAsRuns(1), "eight runs");
    assertEquals(64, t.frameRun(512 + 3 * 64, 4096));
    // Pages touched one by one out of order: too many runs, the table turns dense.
    SplittableRandom random = new SplittableRandom(5);
    PageTable u = new PageTable(512, pool);
    List<Long> order = new ArrayList<>();
    for (long i = 0; i < 512; i++) {
      order.add(i);
    }
    for (int i = order.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      order.set(i, order.set(j, order.get(i)));
    }
    for (long i : order.subList(0, 300)) {
      touch(u, i);
    }
    assertFalse(u.keptAsRuns(0));
    for (long i = 0; i < 512; i++) {
      boolean touched = order.subList(0, 300).contains(i);
      assertEquals(touched, u.get(i) != null, "page " + i);
      if (touched) {
        assertEquals(i, u.get(i).get(JAVA_LONG, 0));
      }
    }
    for (int r = 0; r < 8; r++) {
      assertEquals((byte) r, t.get(512 + r * 64L + 5).get(java.lang.foreign.ValueLayout.JAVA_BYTE,
          100));
    }
    assertEquals(511, t.get(511).get(JAVA_LONG, 0));
  }

  @Test
  void aFreshRunIsRefusedWhereAPageHasAFrame() {
    PageTable t = new PageTable(1024, pool);
    touch(t, 600);
    assertNull(t.freshRun(500, 200));
    assertEquals(100 * 4096L, t.freshRun(400, 100).byteSize());
    assertEquals(400, t.nextTouched(0));
    assertEquals(600, t.nextTouched(500));
    assertEquals(-1, t.nextTouched(601));
  }

  @Test
  void aPartialLastTableCoversTheLastPagesAndNothingBeyond() {
    PageTable t = new PageTable(513, pool); // one full table and one with a single valid page
    touch(t, 512);
    assertEquals(512, t.get(512).get(JAVA_LONG, 0));
    assertNull(t.get(511));
    assertEquals(1, t.touchedPages());
    assertEquals(-1, t.nextTouched(513));
  }

  @Test
  void aHugeSparseMappingIsCheapAndAnImpossibleOneIsRefused() {
    long pages = 1L << 28; // 1 TiB of 4 KiB pages: a directory of 512 Ki entries, no tables
    PageTable t = new PageTable(pages, pool);
    touch(t, pages - 1);
    assertEquals(pages - 1, t.get(pages - 1).get(JAVA_LONG, 0));
    List<Long> seen = new ArrayList<>();
    t.forEach((index, f) -> seen.add(index));
    assertEquals(List.of(pages - 1), seen);
    assertEquals(pages - 1, t.nextTouched(0));
    assertEquals(1, t.touchedPages());
    touch(t, 5);
    assertEquals(5, t.nextTouched(0));
    assertEquals(pages - 1, t.nextTouched(6));
    assertThrows(IllegalArgumentException.class, () -> new PageTable(1L << 45, pool));
  }
}

package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Page bitmaps read as runs, with and without merging small gaps, against a BitSet. */
class PageBitmapTest {
  @Test
  void runsCoverExactlyTheSetPages() {
    Random random = new Random(11);
    for (int round = 0; round < 200; round++) {
      int pages = 1 + random.nextInt(300);
      BitSet set = new BitSet();
      long[] words = new long[PageBitmap.wordsFor(pages)];
      for (int i = 0; i < pages; i++) {
        if (random.nextInt(4) == 0 || (round % 7 == 0 && i > pages / 2)) {
          set.set(i);
          words[i / 64] |= 1L << i;
        }
      }
      PageBitmap b = new PageBitmap(pages, words);
      assertEquals(set.cardinality(), b.count());
      BitSet fromRuns = new BitSet();
      int last = -2;
      for (PageBitmap.Run r : b.runs()) {
        assertTrue(r.first() > last + 1, "runs are maximal and ascending");
        fromRuns.set(r.first(), r.first() + r.count());
        last = r.first() + r.count() - 1;
      }
      assertEquals(set, fromRuns);
      int gap = random.nextInt(4);
      BitSet merged = new BitSet();
      for (PageBitmap.Run r : b.runs(gap)) {
        merged.set(r.first(), r.first() + r.count());
        assertTrue(set.get(r.first()) && set.get(r.first() + r.count() - 1));
      }
      BitSet missing = (BitSet) set.clone();
      missing.andNot(merged);
      assertTrue(missing.isEmpty(), "merged runs cover every set page");
      for (int i = 0; i < pages; i++) {
        assertEquals(set.get(i), b.contains(i));
      }
    }
  }

  @Test
  void gapsUpToTheLimitAreMerged() {
    PageBitmap b = new PageBitmap(70, new long[] {0b1001_0011L, 1L << 5});
    assertEquals(List.of(new PageBitmap.Run(0, 2), new PageBitmap.Run(4, 1),
        new PageBitmap.Run(7, 1), new PageBitmap.Run(69, 1)), b.runs());
    assertEquals(List.of(new PageBitmap.Run(0, 8), new PageBitmap.Run(69, 1)), b.runs(2));
    assertTrue(PageBitmap.full(65).isFull());
    assertFalse(PageBitmap.empty(65).or(new PageBitmap(65, new long[] {0, 1})).isEmpty());
    assertEquals(64, new PageBitmap(64, new long[] {-1L}).count(), "no bits beyond the pages");
    assertEquals(3, new PageBitmap(3, new long[] {-1L}).count());
  }
}

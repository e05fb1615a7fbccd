package dev.accr.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageTableTest {
  private static MemorySegment frame(long n) {
    return MemorySegment.ofArray(new long[] {n});
  }

  @Test
  void untouchedPagesHaveNoFrameAndSetPagesKeepTheirs() {
    PageTable t = new PageTable(2048);
    assertEquals(2048, t.pages());
    MemorySegment a = frame(1);
    MemorySegment b = frame(2);
    t.set(511, a); // last entry of the first second-level table
    t.set(512, b); // first entry of the second
    assertSame(a, t.get(511));
    assertSame(b, t.get(512));
    assertNull(t.get(510));
    assertNull(t.get(513));
    assertNull(t.get(2047), "a table that was never touched");
    MemorySegment c = frame(3);
    t.set(511, c);
    assertSame(c, t.get(511), "a page's frame can be replaced");
  }

  @Test
  void forEachVisitsTouchedPagesOnlyInIndexOrder() {
    PageTable t = new PageTable(5000);
    long[] indices = {4999, 0, 1023, 512, 3, 1024};
    for (long i : indices) {
      t.set(i, frame(i));
    }
    List<Long> seen = new ArrayList<>();
    t.forEach((index, f) -> {
      assertEquals(index, f.get(JAVA_LONG, 0),
          "each page is visited with its own frame");
      seen.add(index);
    });
    assertEquals(List.of(0L, 3L, 512L, 1023L, 1024L, 4999L), seen);
  }

  @Test
  void aPartialLastTableCoversTheLastPagesAndNothingBeyond() {
    PageTable t = new PageTable(513); // one full table and one with a single valid page
    t.set(512, frame(9));
    assertEquals(9, t.get(512).get(JAVA_LONG, 0));
    assertThrows(ArrayIndexOutOfBoundsException.class, () -> t.get(1024));
  }

  @Test
  void aHugeSparseMappingIsCheapAndAnImpossibleOneIsRefused() {
    long pages = 1L << 28; // 1 TiB of 4 KiB pages: a directory of 512 Ki entries, no tables
    PageTable t = new PageTable(pages);
    t.set(pages - 1, frame(7));
    assertEquals(7, t.get(pages - 1).get(JAVA_LONG, 0));
    List<Long> seen = new ArrayList<>();
    t.forEach((index, f) -> seen.add(index));
    assertEquals(List.of(pages - 1), seen);
    assertThrows(IllegalArgumentException.class, () -> new PageTable(1L << 45));
  }
}

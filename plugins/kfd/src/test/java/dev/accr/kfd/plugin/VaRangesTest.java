package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The settled ranges of a chain restore: merged on add, and the parts not covered. */
class VaRangesTest {
  @Test
  void addMergesOverlappingAndTouchingRanges() {
    VaRanges r = new VaRanges();
    r.add(100, 200);
    r.add(300, 400);
    assertEquals("[0x64-0xc8, 0x12c-0x190]", r.toString());
    r.add(200, 250); // touches the first
    r.add(150, 180); // inside it
    assertEquals("[0x64-0xfa, 0x12c-0x190]", r.toString());
    r.add(50, 350); // swallows the first, overlaps the second
    assertEquals("[0x32-0x190]", r.toString());
    r.add(500, 500); // empty
    assertEquals(1, r.size());
    assertEquals(350, r.bytes());
  }

  @Test
  void uncoveredPartsAreTheGapsInOrder() {
    VaRanges r = new VaRanges();
    r.add(100, 200);
    r.add(300, 400);
    assertEquals(List.of(0L, 100L, 200L, 300L, 400L, 500L), uncovered(r, 0, 500));
    assertEquals(List.of(200L, 300L), uncovered(r, 150, 350));
    assertEquals(List.of(), uncovered(r, 100, 200));
    assertEquals(List.of(), uncovered(r, 120, 180));
    assertEquals(List.of(250L, 260L), uncovered(r, 250, 260));
    assertEquals(List.of(), uncovered(r, 5, 5));
    assertTrue(r.covers(120, 200) && r.covers(300, 300) && !r.covers(150, 301)
        && !r.covers(0, 1));
    assertTrue(new VaRanges().isEmpty() && !r.isEmpty());
  }

  @Test
  void aRangeThatEndsBeforeItBeginsIsRefused() {
    VaRanges r = new VaRanges();
    assertThrows(IllegalArgumentException.class, () -> r.add(10, 5));
    assertThrows(IllegalArgumentException.class, () -> r.forEachUncovered(10, 5, (a, b) -> {}));
    assertThrows(IllegalArgumentException.class, () -> r.covers(Long.MAX_VALUE, Long.MIN_VALUE));
  }

  /** Random adds and queries agree with a bitmap of the same addresses. */
  @Test
  void agreesWithABitmap() {
    Random random = new Random(11);
    for (int round = 0; round < 200; round++) {
      VaRanges r = new VaRanges();
      BitSet bits = new BitSet();
      for (int i = 0; i < 12; i++) {
        int from = random.nextInt(1000);
        int to = from + random.nextInt(120);
        r.add(from, to);
        bits.set(from, to);
        int qa = random.nextInt(1100);
        int qb = qa + random.nextInt(300);
        BitSet gaps = new BitSet();
        List<Long> parts = uncovered(r, qa, qb);
        for (int k = 0; k < parts.size(); k += 2) {
          assertTrue(parts.get(k) < parts.get(k + 1), "parts are not empty: " + parts);
          assertTrue(k == 0 || parts.get(k - 1) < parts.get(k), "nor touching: " + parts);
          gaps.set(parts.get(k).intValue(), parts.get(k + 1).intValue());
        }
        BitSet expected = new BitSet();
        expected.set(qa, qb);
        expected.andNot(bits);
        assertEquals(expected, gaps, r + " minus [" + qa + ", " + qb + ")");
        assertEquals(expected.isEmpty(), r.covers(qa, qb));
        assertEquals(bits.cardinality(), r.bytes());
      }
      assertFalse(r.size() > 12);
    }
  }

  private static List<Long> uncovered(VaRanges r, long from, long to) {
    List<Long> out = new ArrayList<>();
    r.forEachUncovered(from, to, (a, b) -> {
      out.add(a);
      out.add(b);
    });
    return out;
  }
}

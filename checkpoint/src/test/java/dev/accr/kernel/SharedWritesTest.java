package dev.accr.kernel;

import static dev.accr.api.MemoryView.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.Prot;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Write tracking of shared memory across the address spaces that map it: the object ends its
 * period once per step, every mapping reports the writes of every holder, and mapping it anew
 * while tracked (fork) loses nobody's marks.
 */
class SharedWritesTest {
  private static final long SHM = 0x40_0000L;
  private static final long HEAP = 0x10_0000L;
  private final NodeMemory accounting = new NodeMemory();
  private final KernelIds ids = new KernelIds();
  private final List<AddressSpace> spaces = new ArrayList<>();

  private AddressSpace space() {
    AddressSpace a = new AddressSpace(accounting, ids);
    spaces.add(a);
    return a;
  }

  @AfterEach
  void close() {
    spaces.forEach(AddressSpace::close);
    assertEquals(0, accounting.residentPages());
  }

  /** Two address spaces sharing 8 pages at {@code SHM}, each with a private heap page. */
  private List<AddressSpace> pair() {
    AddressSpace a = space();
    AddressSpace b = space();
    a.mapShared(SHM, 8 * PAGE_SIZE, Prot.RW, "counters");
    a.mapAnonymous(HEAP, PAGE_SIZE, Prot.RW, "heap");
    a.writeLong(SHM, 1); // touched before tracking
    a.forkInto(b);
    return List.of(a, b);
  }

  private static List<Long> written(DirtyPages d, AddressSpace a) {
    Vma vma = a.find(SHM);
    assertFalse(d.wholeMapping(vma), "tracked since " + d.since());
    List<Long> pages = new ArrayList<>();
    for (long i = d.nextWrittenPage(vma, 0); i >= 0; i = d.nextWrittenPage(vma, i + 1)) {
      pages.add(i);
    }
    return pages;
  }

  @Test
  void everyHolderReportsTheWritesOfEveryHolderOncePerStep() {
    List<AddressSpace> both = pair();
    AddressSpace a = both.get(0);
    AddressSpace b = both.get(1);
    SharedWrites first = SharedWrites.step();
    // The second holder ends its period first: the object's period still ends once.
    b.trackWrites("one", first);
    a.trackWrites("one", first);
    b.writeLong(SHM + 3 * PAGE_SIZE, 3);
    a.writeLong(SHM + 5 * PAGE_SIZE, 5);
    b.writeLong(HEAP, 7); // private: b's alone
    SharedWrites second = SharedWrites.step();
    DirtyPages ofA = a.trackWrites("two", second);
    DirtyPages ofB = b.trackWrites("two", second);
    assertEquals(List.of(3L, 5L), written(ofA, a));
    assertEquals(List.of(3L, 5L), written(ofB, b));
    assertEquals(-1, ofA.nextWrittenPage(a.find(HEAP), 0));
    assertEquals(0, ofB.nextWrittenPage(b.find(HEAP), 0));
    assertEquals("two", a.find(SHM).shared().trackingSince());
  }

  @Test
  void aForkWhileTrackedKeepsTheOthersMarksAndAFailedDumpGivesThemBack() {
    List<AddressSpace> both = pair();
    AddressSpace a = both.get(0);
    AddressSpace b = both.get(1);
    SharedWrites first = SharedWrites.step();
    a.trackWrites("one", first);
    b.trackWrites("one", first);
    a.writeLong(SHM + 2 * PAGE_SIZE, 2);
    AddressSpace child = space();
    b.forkInto(child); // maps the object while it is tracked
    child.writeLong(SHM + 6 * PAGE_SIZE, 6);
    SharedWrites second = SharedWrites.step();
    DirtyPages ofA = a.trackWrites("two", second);
    DirtyPages ofChild = child.trackWrites("two", second);
    assertEquals(List.of(2L, 6L), written(ofA, a));
    assertTrue(ofChild.wholeMapping(child.find(SHM)), "a new address space counts whole");
    ofA.putBack(); // the dump that took them failed: the next one stores them
    a.writeLong(SHM + 7 * PAGE_SIZE, 7);
    DirtyPages again = a.trackWrites("three", SharedWrites.step());
    assertEquals("one", again.since());
    assertEquals(List.of(2L, 6L, 7L), written(again, a));
  }
}

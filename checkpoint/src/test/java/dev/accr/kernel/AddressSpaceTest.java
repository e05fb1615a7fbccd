package dev.accr.kernel;

import static dev.accr.api.MemoryView.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.Prot;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AddressSpaceTest {
  private static final long BASE = 0x10_0000L;
  private final NodeMemory accounting = new NodeMemory();
  private final AddressSpace memory = new AddressSpace(accounting, new KernelIds());

  @AfterEach
  void close() {
    memory.close();
    assertEquals(0, accounting.residentPages(), "closing frees every frame");
    assertEquals(0, accounting.reservedBytes());
  }

  @Test
  void mappingsAreKeptInAddressOrderWithTheirProtectionAndKind() {
    memory.mapAnonymous(BASE + 8 * PAGE_SIZE, 2 * PAGE_SIZE, Prot.READ, "ro");
    memory.mapAnonymous(BASE, 4 * PAGE_SIZE, Prot.RW, "heap");
    memory.mapDevice(new DeviceMapping(BASE + 4 * PAGE_SIZE, PAGE_SIZE, Prot.RW | Prot.EXEC,
        "/dev/x", 0x3000), "doorbell");
    List<Vma> vmas = memory.vmas();
    assertEquals(List.of(BASE, BASE + 4 * PAGE_SIZE, BASE + 8 * PAGE_SIZE),
        vmas.stream().map(Vma::start).toList());
    assertEquals(Prot.RW, vmas.get(0).prot());
    assertEquals(Vma.Kind.ANON, vmas.get(0).kind());
    assertEquals(4, vmas.get(0).pageCount());
    assertEquals(Vma.Kind.DEVICE, vmas.get(1).kind());
    assertEquals(Prot.RW | Prot.EXEC, vmas.get(1).prot());
    assertEquals("/dev/x", vmas.get(1).path());
    assertEquals(0x3000, vmas.get(1).offset());
    assertEquals(Prot.READ, vmas.get(2).prot());
    assertEquals("ro", vmas.get(2).name());
  }

  @Test
  void findReturnsTheMappingHoldingAnAddressAndNullInGaps() {
    memory.mapAnonymous(BASE, 2 * PAGE_SIZE, Prot.RW, "a");
    memory.mapAnonymous(BASE + 3 * PAGE_SIZE, PAGE_SIZE, Prot.RW, "b");
    assertEquals("a", memory.find(BASE).name());
    assertEquals("a", memory.find(BASE + 2 * PAGE_SIZE - 1).name());
    assertNull(memory.find(BASE + 2 * PAGE_SIZE), "the end is exclusive");
    assertNull(memory.find(BASE - 1));
    assertEquals("b", memory.find(BASE + 3 * PAGE_SIZE + 100).name());
    assertNull(memory.find(BASE + 4 * PAGE_SIZE));
  }

  @Test
  void overlappingMappingsAreRefusedAndAdjacentOnesAreNot() {
    memory.mapAnonymous(BASE + 4 * PAGE_SIZE, 4 * PAGE_SIZE, Prot.RW, "middle");
    long[][] overlapping = {
        {BASE + 4 * PAGE_SIZE, PAGE_SIZE}, // same start
        {BASE + 2 * PAGE_SIZE, 3 * PAGE_SIZE}, // runs into it from below
        {BASE + 7 * PAGE_SIZE, 2 * PAGE_SIZE}, // starts inside, ends above
        {BASE + 5 * PAGE_SIZE, PAGE_SIZE}, // inside
        {BASE, 16 * PAGE_SIZE}}; // covers it
    for (long[] r : overlapping) {
      AccrException e = assertThrows(AccrException.class,
          () -> memory.mapAnonymous(r[0], r[1], Prot.RW, "x"));
      assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
    }
    memory.mapAnonymous(BASE, 4 * PAGE_SIZE, Prot.RW, "below");
    memory.mapAnonymous(BASE + 8 * PAGE_SIZE, PAGE_SIZE, Prot.RW, "above");
    assertEquals(3, memory.vmas().size());
  }

  @Test
  void unalignedEmptyAndOutOfRangeMappingsAreRefused() {
    long[][] bad = {
        {BASE + 1, PAGE_SIZE}, {BASE, PAGE_SIZE + 1}, {BASE, 0}, {-PAGE_SIZE, PAGE_SIZE},
        {AddressSpace.MAX_ADDRESS - PAGE_SIZE, 2 * PAGE_SIZE},
        {0, AddressSpace.MAX_MAPPED_BYTES + PAGE_SIZE}};
    for (long[] r : bad) {
      assertThrows(AccrException.class, () -> memory.mapAnonymous(r[0], r[1], Prot.RW, "x"),
          Long.toHexString(r[0]) + "+" + Long.toHexString(r[1]));
    }
    assertTrue(memory.vmas().isEmpty());
    memory.mapAnonymous(AddressSpace.MAX_ADDRESS - PAGE_SIZE, PAGE_SIZE, Prot.RW, "last page");
  }

  @Test
  void pagesAreAllocatedOnFirstWriteOnlyAndReadsOfUntouchedPagesAreZero() {
    memory.mapAnonymous(BASE, 1024L * PAGE_SIZE, Prot.RW, "big");
    assertEquals(0, memory.residentPages());
    assertEquals(0, memory.readLong(BASE + 100L * PAGE_SIZE));
    assertSame(AddressSpace.zeroPage(), memory.pageForRead(BASE + 5 * PAGE_SIZE));
    assertEquals(0, memory.residentPages(), "reading does not allocate");

    memory.writeLong(BASE + 100L * PAGE_SIZE + 8, 42);
    assertEquals(1, memory.residentPages());
    assertEquals(1, accounting.residentPages());
    memory.writeLong(BASE + 100L * PAGE_SIZE + 16, 43);
    assertEquals(1, memory.residentPages(), "the second write hits the same frame");
    assertEquals(42, memory.readLong(BASE + 100L * PAGE_SIZE + 8));
    assertEquals(0, memory.readLong(BASE + 100L * PAGE_SIZE), "a fresh frame is zeroed");
    assertEquals(0, memory.readLong(BASE + 101L * PAGE_SIZE));
    assertEquals(0, AddressSpace.zeroPage().get(ValueLayout.JAVA_LONG, 8),
        "the shared zero page stays zero");

    List<Long> touched = new ArrayList<>();
    memory.find(BASE).forEachTouchedPage((address, frame) -> touched.add(address));
    assertEquals(List.of(BASE + 100L * PAGE_SIZE), touched);
  }

  @Test
  void neighbouringPagesHoldTheirOwnContents() {
    memory.mapAnonymous(BASE, 3 * PAGE_SIZE, Prot.RW, "heap");
    long lastOfFirst = BASE + PAGE_SIZE - Long.BYTES;
    memory.writeLong(lastOfFirst, 0x1111);
    memory.writeLong(BASE + PAGE_SIZE, 0x2222);
    memory.writeLong(BASE + 3 * PAGE_SIZE - Long.BYTES, 0x3333);
    long[] expected = new long[3 * PAGE_SIZE / Long.BYTES];
    expected[PAGE_SIZE / Long.BYTES - 1] = 0x1111;
    expected[PAGE_SIZE / Long.BYTES] = 0x2222;
    expected[expected.length - 1] = 0x3333;
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], memory.readLong(BASE + (long) i * Long.BYTES), "long " + i);
    }
    assertNotSame(memory.pageForRead(BASE), memory.pageForRead(BASE + PAGE_SIZE));
  }

  @Test
  void accessOutsideAMappingFaultsAndUnalignedAccessIsABusError() {
    memory.mapAnonymous(BASE, PAGE_SIZE, Prot.RW, "one");
    AccrException fault = assertThrows(AccrException.class,
        () -> memory.writeLong(BASE + PAGE_SIZE, 1));
    assertTrue(fault.getMessage().contains("segmentation fault"), fault.getMessage());
    assertThrows(AccrException.class, () -> memory.readLong(BASE - Long.BYTES));
    AccrException bus = assertThrows(AccrException.class, () -> memory.readLong(BASE + 4));
    assertTrue(bus.getMessage().contains("bus error"), bus.getMessage());
    assertEquals(0, memory.residentPages());
  }

  @Test
  void unmapRemovesTheWholeMappingOnlyAndLeavesNothingOfItsContents() {
    memory.mapAnonymous(BASE, 2 * PAGE_SIZE, Prot.RW, "gone");
    memory.mapAnonymous(BASE + 2 * PAGE_SIZE, PAGE_SIZE, Prot.RW, "kept");
    memory.writeLong(BASE, 7);
    memory.writeLong(BASE + 2 * PAGE_SIZE, 9);
    MemorySegment frame = memory.pageForRead(BASE);

    assertThrows(AccrException.class, () -> memory.unmap(BASE, PAGE_SIZE), "part of a mapping");
    assertThrows(AccrException.class, () -> memory.unmap(BASE + PAGE_SIZE, PAGE_SIZE));
    memory.unmap(BASE, 2 * PAGE_SIZE);
    assertNull(memory.find(BASE));
    assertThrows(AccrException.class, () -> memory.readLong(BASE));
    assertEquals(0, frame.get(ValueLayout.JAVA_LONG, 0), "the old frame was zeroed");
    assertEquals(9, memory.readLong(BASE + 2 * PAGE_SIZE));

    memory.mapAnonymous(BASE, 2 * PAGE_SIZE, Prot.RW, "again");
    assertEquals(0, memory.readLong(BASE), "a new mapping at the same place starts empty");
  }

  @Test
  void writePagesFillsRunsOfPagesShortAndLongKeepingEarlierFrames() {
    memory.mapAnonymous(BASE, 64L * PAGE_SIZE, Prot.RW, "heap");
    memory.writeLong(BASE + 3L * PAGE_SIZE, -1); // a page that exists before the bulk write
    MemorySegment existing = memory.pageForRead(BASE + 3L * PAGE_SIZE);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment source = arena.allocate(40L * PAGE_SIZE);
      for (long i = 0; i < 40L * PAGE_SIZE / Long.BYTES; i++) {
        source.set(ValueLayout.JAVA_LONG, i * Long.BYTES, i + 1);
      }
      memory.writePages(BASE + 40L * PAGE_SIZE, source, 0, 4); // short run
      memory.writePages(BASE, source, PAGE_SIZE, 32); // long run, one existing frame
      assertThrows(AccrException.class, () -> memory.writePages(BASE + 60L * PAGE_SIZE, source,
          0, 8), "past the end of the mapping");
      assertThrows(AccrException.class, () -> memory.writePages(BASE + 8, source, 0, 1));
    }
    assertEquals(36, memory.residentPages());
    assertEquals(existing.address(), memory.pageForRead(BASE + 3L * PAGE_SIZE).address(),
        "a page that had a frame keeps it");
    long perPage = PAGE_SIZE / Long.BYTES;
    assertEquals(perPage + 1, memory.readLong(BASE));
    assertEquals(4 * perPage + 1, memory.readLong(BASE + 3L * PAGE_SIZE));
    assertEquals(33 * perPage, memory.readLong(BASE + 32L * PAGE_SIZE - Long.BYTES),
        "page k of the run holds page k + 1 of the source");
    assertEquals(1, memory.readLong(BASE + 40L * PAGE_SIZE));
    assertEquals(4 * perPage, memory.readLong(BASE + 44L * PAGE_SIZE - Long.BYTES));
    assertEquals(0, memory.readLong(BASE + 44L * PAGE_SIZE));
  }
}

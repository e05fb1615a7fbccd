package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class VramTest {
  private static final long BLOCK = Vram.BLOCK;

  @Test
  void aFreedBlockIsKeptAndComesBackCleared() {
    Vram vram = new Vram(8 * BLOCK, 8 * BLOCK);
    try {
      vram.forWrite(BLOCK, BLOCK).fill((byte) 0x5a);
      vram.forWrite(2 * BLOCK, BLOCK).fill((byte) 0x5a);
      vram.release(BLOCK, 2 * BLOCK);
      assertEquals(0, vram.residentBytes());
      assertEquals(2, vram.spareBlocks());
      assertEquals(-1, vram.forRead(BLOCK, BLOCK).mismatch(zeros()), "a freed block reads 0");

      vram.forWrite(5 * BLOCK + 100, 1).fill((byte) 1); // takes a spare block
      assertEquals(1, vram.spareBlocks());
      assertEquals(BLOCK, vram.residentBytes());
      MemorySegment reused = vram.forRead(5 * BLOCK, BLOCK);
      assertEquals(1, reused.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 100));
      assertEquals(-1, reused.asSlice(0, 100).mismatch(zeros().asSlice(0, 100)));
      assertEquals(-1, reused.asSlice(101).mismatch(zeros().asSlice(101)),
          "what the block held before it was freed is gone");
    } finally {
      vram.close();
    }
    assertEquals(0, vram.spareBlocks());
    assertEquals(0, vram.residentBytes());
  }

  @Test
  void aDeviceHoldsNoMoreBlocksThanItEverUsed() {
    Vram vram = new Vram(16 * BLOCK, 16 * BLOCK);
    try {
      for (int round = 0; round < 5; round++) {
        for (long b = 0; b < 4; b++) {
          vram.copyIn(MemorySegment.ofArray(new byte[] {1, 2, 3}), 0, (round * 3 + b) * BLOCK, 3);
        }
        assertEquals(4 * BLOCK, vram.residentBytes());
        assertEquals(0, vram.spareBlocks(), "round " + round + " reused every spare block");
        vram.release(round * 3 * BLOCK, 4 * BLOCK);
        assertEquals(4, vram.spareBlocks());
      }
    } finally {
      vram.close();
    }
  }

  @Test
  void blocksThatComeFilledTakeTheRoomOfSpareOnesSoTheDeviceDoesNotGrow() {
    Vram vram = new Vram(16 * BLOCK, 16 * BLOCK);
    try {
      for (int round = 0; round < 5; round++) {
        // A process restored with its VRAM loaded ahead (filled blocks), then killed.
        for (int b = 0; b < 4; b++) {
          Arena arena = Arena.ofShared();
          MemorySegment filled = arena.allocate(BLOCK, 4096);
          filled.fill((byte) (round + 1));
          assertEquals(true, vram.installFilled(round * 3 + b, arena, filled));
        }
        assertEquals(4 * BLOCK, vram.residentBytes());
        assertEquals(0, vram.spareBlocks(), "round " + round + ": the spare blocks gave way");
        vram.release(round * 3 * BLOCK, 4 * BLOCK);
        assertEquals(4, vram.spareBlocks(), "round " + round);
      }
    } finally {
      vram.close();
    }
  }

  @Test
  void aSliceOfAFreedBlockFailsRatherThanReachTheBlocksNextOwner() {
    Vram vram = new Vram(4 * BLOCK, 4 * BLOCK);
    try {
      vram.forWrite(0, BLOCK).fill((byte) 0x11);
      MemorySegment stale = vram.forRead(0, BLOCK); // a reader, say a dump of the first owner
      MemorySegment staleWrite = vram.forWrite(0, 4096);
      vram.release(0, BLOCK);
      vram.forWrite(BLOCK, BLOCK).fill((byte) 0x22); // the next owner gets the spare block
      assertEquals(0, vram.spareBlocks(), "the freed block was reused");

      assertThrows(IllegalStateException.class,
          () -> stale.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
      assertThrows(IllegalStateException.class,
          () -> MemorySegment.copy(stale, 0, MemorySegment.ofArray(new byte[16]), 0, 16));
      assertThrows(IllegalStateException.class, () -> staleWrite.fill((byte) 0x33));
      assertEquals(-1, vram.forRead(BLOCK, BLOCK).mismatch(filled((byte) 0x22)),
          "the next owner's contents are untouched");
    } finally {
      vram.close();
    }
  }

  private static MemorySegment filled(byte value) {
    return Arena.ofAuto().allocate(BLOCK).fill(value);
  }

  private static MemorySegment zeros() {
    return Arena.ofAuto().allocate(BLOCK);
  }
}

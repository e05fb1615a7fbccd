package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.Prot;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.Vma;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageCursorTest {
  @TempDir Path tmp;

  @Test
  void batchesHoldTheTouchedPagesInAddressOrderAcrossMappings() throws Exception {
    Node node = Scenarios.node("a");
    {
      SimProcess p = node.create("counter", List.of("--mem-mib", "1", "--steps", "0",
          "--out", tmp.resolve("c.out").toString()), tmp, 0);
      AddressSpace memory = p.memory();
      long huge = 1L << 40;
      memory.mapAnonymous(0x2000_0000L, 16 * 4096, Prot.RW, "small");
      memory.mapAnonymous(0x1_0000_0000L, huge - (1L << 30), Prot.RW, "huge");
      List<Long> touched = new ArrayList<>(List.of(0x2000_0000L, 0x2000_3000L));
      for (int i = 0; i < 5; i++) {
        touched.add(0x1_0000_0000L + i * (1L << 37) + 4096L * i);
      }
      for (long a : touched.reversed()) {
        memory.writeLong(a, a);
      }
      List<Vma> vmas = memory.vmas().stream().filter(v -> v.name().equals("small") || v.name().equals("huge")).toList();
      assertTrue(PageCursor.bound(vmas, PageSelection.ALL_TOUCHED) >= touched.size());
      PageCursor cursor = new PageCursor(vmas, PageSelection.ALL_TOUCHED);
      PageCursor.Batch batch = new PageCursor.Batch(3);
      List<Long> seen = new ArrayList<>();
      long sequence = -1;
      while (cursor.next(batch)) {
        assertTrue(batch.sequence() > sequence);
        sequence = batch.sequence();
        int pages = 0;
        for (int i = 0; i < batch.pieces(); i++) {
          pages += batch.pages(i);
          for (int k = 0; k < batch.pages(i); k++) {
            long address = batch.address(i) + k * 4096L;
            seen.add(address);
            assertEquals(address, memory.readLong(address));
            assertEquals(address, batch.frames(i).get(
                java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, k * 4096L));
          }
        }
        assertEquals(pages, batch.size());
        assertTrue(batch.size() <= 3);
      }
      assertEquals(touched, seen);
      assertFalse(cursor.next(batch), "an exhausted cursor stays exhausted");

      PageCursor stopped = new PageCursor(vmas, PageSelection.ALL_TOUCHED);
      assertTrue(stopped.next(batch));
      stopped.stop();
      assertFalse(stopped.next(batch), "a stopped cursor hands out nothing more");
      assertEquals(0, batch.size());
    }
  }
}

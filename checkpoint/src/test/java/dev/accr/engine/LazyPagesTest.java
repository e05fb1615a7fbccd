package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.MemoryView;
import dev.accr.api.Prot;
import dev.accr.kernel.AddressSpace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class LazyPagesTest {
  private static final int PAGE = MemoryView.PAGE_SIZE;
  private static final long BASE = 0x4000_0000L;

  /** Three units of two pages each; every long of a page holds (address * 31). */
  private static final class FakeSource implements PageSource {
    final AtomicIntegerArray loads = new AtomicIntegerArray(3);
    final CountDownLatch pusherInUnit0 = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile int damaged = -1;
    volatile boolean closed;

    @Override
    public List<List<Run>> units() {
      return List.of(List.of(new Run(BASE, 2)), List.of(new Run(BASE + 2 * PAGE, 2)),
          List.of(new Run(BASE + 4 * PAGE, 2)));
    }

    @Override
    public void load(int unit, RunSink sink) {
      loads.incrementAndGet(unit);
      if (unit == damaged) {
        throw new AccrException(AccrException.CORRUPT, "pages-1.img: chunk at offset 99:"
            + " checksum actual=0x1 expected=0x2");
      }
      if (unit == 0 && Thread.currentThread().getName().equals("pusher")) {
        pusherInUnit0.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
      Run run = units().get(unit).getFirst();
      MemorySegment data = Arena.ofAuto().allocate((long) run.pages() * PAGE);
      for (long at = 0; at < data.byteSize(); at += 8) {
        data.set(ValueLayout.JAVA_LONG, at, (run.vaddr() + at) * 31);
      }
      sink.accept(run, data, 0);
    }

    @Override
    public String describe() {
      return "a test source";
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static AddressSpace memory() {
    AddressSpace memory = AddressSpace.standalone();
    memory.mapAnonymous(BASE, 8L * PAGE, Prot.READ | Prot.WRITE, "heap");
    return memory;
  }

  @Test
  void aFaultOnAUnitThePusherIsLoadingWaitsForItAndTheUnitIsLoadedOnce() throws Exception {
    try (AddressSpace memory = memory()) {
      FakeSource source = new FakeSource();
      LazyPages lazy = new LazyPages(memory, source);
      memory.setPageFaults(lazy);
      Thread pusher = Thread.ofPlatform().name("pusher").start(lazy::pushNext);
      source.pusherInUnit0.await();
      long[] seen = new long[1];
      Thread reader = Thread.ofPlatform().start(() -> seen[0] = memory.readLong(BASE + 8));
      while (reader.getState() != Thread.State.WAITING && reader.isAlive()) {
        Thread.onSpinWait(); // the reader is blocked on the unit the pusher holds
      }
      source.release.countDown();
      pusher.join();
      reader.join();
      assertEquals((BASE + 8) * 31, seen[0]);
      assertEquals(1, source.loads.get(0));
      assertEquals(2, lazy.pagesPushed());
      assertEquals(0, lazy.pagesFaulted());
    }
  }

  @Test
  void aWriteToAPageNotLoadedYetLoadsItFirstAndThePusherDoesNotOverwriteIt() {
    try (AddressSpace memory = memory()) {
      FakeSource source = new FakeSource();
      source.release.countDown();
      LazyPages lazy = new LazyPages(memory, source);
      memory.setPageFaults(lazy);
      long address = BASE + 3 * PAGE + 16;
      memory.writeLong(address, 7);
      assertEquals(7, memory.readLong(address));
      assertEquals((address + 8) * 31, memory.readLong(address + 8), "the rest was loaded");
      while (lazy.pushNext()) {
        // push the rest
      }
      assertEquals(7, memory.readLong(address), "the pusher skips a loaded unit");
      assertEquals(1, source.loads.get(1));
      assertEquals(2, lazy.pagesFaulted());
      assertEquals(4, lazy.pagesPushed());
      assertEquals(0, memory.readLong(BASE + 7 * PAGE), "a page the source lacks is zeros");
    }
  }

  @Test
  void aUnitThatCannotBeLoadedFailsEveryToucherWithTheReason() {
    try (AddressSpace memory = memory()) {
      FakeSource source = new FakeSource();
      source.damaged = 2;
      LazyPages lazy = new LazyPages(memory, source);
      memory.setPageFaults(lazy);
      AccrException e = assertThrows(AccrException.class,
          () -> memory.readLong(BASE + 5 * PAGE));
      assertTrue(e.getMessage().contains("a test source") && e.getMessage().contains("checksum"),
          e.getMessage());
      assertThrows(AccrException.class, lazy::pushNext, "the pusher stops too");
      assertFalse(lazy.loadFailure().isEmpty());
    }
  }
}

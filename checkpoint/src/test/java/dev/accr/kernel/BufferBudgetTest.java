package dev.accr.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The node-wide buffer bound: never exceeded, served in order, and every user finishes. */
class BufferBudgetTest {
  @Test
  void manyUsersAtOnceAllFinishAndNeverHoldMoreThanTheBound() throws Exception {
    BufferBudget budget = new BufferBudget(10_000);
    AtomicLong held = new AtomicLong();
    AtomicLong mostHeld = new AtomicLong();
    int users = 12;
    CountDownLatch done = new CountDownLatch(users);
    List<Throwable> failures = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      Thread.ofPlatform().daemon().start(() -> {
        try {
          for (int round = 0; round < 50; round++) {
            // Each wants four buffers of 1000 bytes and can work with one.
            try (BufferBudget.Grant g = budget.acquire(1000, 4000)) {
              assertTrue(g.bytes() >= 1000 && g.bytes() <= 4000, "granted " + g.bytes());
              mostHeld.accumulateAndGet(held.addAndGet(g.bytes()), Math::max);
              Thread.onSpinWait();
              held.addAndGet(-g.bytes());
            }
          }
        } catch (Throwable t) {
          synchronized (failures) {
            failures.add(t);
          }
        } finally {
          done.countDown();
        }
      });
    }
    assertTrue(done.await(20, TimeUnit.SECONDS), "users still waiting: a deadlock");
    assertEquals(List.of(), failures);
    assertTrue(mostHeld.get() <= 10_000, "held " + mostHeld.get());
    assertTrue(budget.peak() <= 10_000, "peak " + budget.peak());
    assertEquals(0, budget.inUse());
  }

  @Test
  void aUserWhoWantsMoreThanIsLeftGetsWhatIsLeft() {
    BufferBudget budget = new BufferBudget(10_000);
    try (BufferBudget.Grant a = budget.acquire(1000, 4000);
        BufferBudget.Grant b = budget.acquire(1000, 4000);
        BufferBudget.Grant c = budget.acquire(1000, 4000)) {
      assertEquals(4000, a.bytes());
      assertEquals(4000, b.bytes());
      assertEquals(2000, c.bytes(), "fewer buffers, not a wait");
      assertEquals(2, c.buffers(1000));
    }
    assertEquals(0, budget.inUse());
  }

  @Test
  void aGrantLeavesRoomForTheMinimumOfThoseWaiting() throws Exception {
    BufferBudget budget = new BufferBudget(4000);
    BufferBudget.Grant first = budget.acquire(3000, 3000);
    CountDownLatch waiting = new CountDownLatch(1);
    AtomicLong second = new AtomicLong();
    Thread t = Thread.ofPlatform().start(() -> {
      waiting.countDown();
      try (BufferBudget.Grant g = budget.acquire(2000, 4000)) {
        second.set(g.bytes());
      }
    });
    waiting.await();
    Thread.sleep(50); // not a timing assumption: the second user must wait whatever the delay
    assertEquals(0, second.get(), "2000 bytes granted while only 1000 were free");
    first.close();
    t.join(10_000);
    assertEquals(4000, second.get());
    assertEquals(0, budget.inUse());
  }

  @Test
  void aMinimumLargerThanTheBudgetTakesTheWholeBudgetAndAWaiterCanGiveUp() {
    BufferBudget budget = new BufferBudget(1000);
    try (BufferBudget.Grant g = budget.acquire(5000, 9000)) {
      assertEquals(1000, g.bytes());
      AtomicBoolean giveUp = new AtomicBoolean(true);
      AccrException e = assertThrows(AccrException.class,
          () -> budget.acquire(1, 1, giveUp::get));
      assertEquals(AccrException.FAILED, e.exitCode());
    }
    assertEquals(0, budget.inUse());
    assertEquals(1000, budget.peak());
  }

  @Test
  void buffersGivenBackAreReusedWhileFewBytesAreKept() {
    BufferBudget budget = new BufferBudget(3 << 20);
    java.lang.foreign.MemorySegment a = budget.buffer(1 << 20);
    java.lang.foreign.MemorySegment b = budget.buffer(1 << 20);
    assertEquals(1 << 20, a.byteSize());
    budget.giveBack(a);
    assertEquals(a.address(), budget.buffer(1 << 20).address(), "the spare one");
    assertTrue(budget.buffer(1 << 20).address() != a.address(), "a fresh one");
    budget.giveBack(a);
    budget.giveBack(b);
    budget.giveBack(budget.buffer(2 << 20)); // over the budget's bytes: not kept
    assertTrue(budget.buffer(2 << 20).address() != 0);
    assertEquals(0, budget.inUse(), "buffers count against no grant");
  }
}

package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Closeable;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A connection's deadline: it closes the connection when it fires, a restart gives the full new
 * timeout (the timer of before does not fire), and the pending slot goes back exactly once,
 * whichever ends it.
 */
class RequestDeadlineTest {
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  /** One slot in all: a slot given back twice would let two connections in. */
  private final PendingSlots slots = new PendingSlots(1, 1);
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Closeable connection = closed::countDown;

  @AfterEach
  void stop() {
    timers.shutdownNow();
  }

  private void assertSlotBackOnce() {
    assertNotNull(slots.take("peer"), "the slot is back");
    assertNull(slots.take("peer"), "and only one");
  }

  @Test
  void anExpiredDeadlineClosesTheConnectionAndGivesItsSlotBackOnce() throws Exception {
    RequestDeadline deadline = new RequestDeadline(timers, Duration.ofMillis(50), connection,
        slots.take("peer"));
    assertTrue(closed.await(10, TimeUnit.SECONDS));
    assertTrue(deadline.expired());
    assertFalse(deadline.waiting());
    assertFalse(deadline.restart(Duration.ofSeconds(10)), "too late to restart");
    assertFalse(deadline.cancel(), "too late to cancel");
    assertSlotBackOnce();
  }

  @Test
  void aRestartGivesTheFullTimeoutFromThenOn() throws Exception {
    RequestDeadline deadline = new RequestDeadline(timers, Duration.ofMillis(400), connection,
        slots.take("peer"));
    Thread.sleep(300);
    long restarted = System.nanoTime();
    assertTrue(deadline.restart(Duration.ofMillis(800)));
    assertFalse(closed.await(500, TimeUnit.MILLISECONDS), "the first timer did not fire");
    assertTrue(deadline.waiting());
    assertNull(slots.take("peer"), "the slot is still held");
    assertTrue(closed.await(10, TimeUnit.SECONDS));
    assertTrue(System.nanoTime() - restarted >= Duration.ofMillis(800).toNanos());
    assertTrue(deadline.expired());
    assertFalse(deadline.cancel());
    assertSlotBackOnce();
  }

  @Test
  void aRequestInAfterARestartGivesTheSlotBackOnce() throws Exception {
    RequestDeadline deadline = new RequestDeadline(timers, Duration.ofMillis(200), connection,
        slots.take("peer"));
    assertTrue(deadline.restart(Duration.ofMillis(300)));
    assertTrue(deadline.cancel());
    assertTrue(deadline.cancel(), "cancelled, not expired");
    assertFalse(deadline.restart(Duration.ofMillis(300)), "over");
    assertFalse(closed.await(600, TimeUnit.MILLISECONDS), "never closed");
    assertFalse(deadline.expired());
    assertSlotBackOnce();
  }
}

package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SdmaEngineTest {
  @Test
  void batchesRunOnceInOrderWhoeverRunsThem() throws Exception {
    List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
    try (SdmaEngine engine = new SdmaEngine("sdma-test")) {
      List<CompletableFuture<Void>> fences = new ArrayList<>();
      for (int b = 0; b < 2000; b++) {
        int batch = b;
        fences.add(engine.submit(List.of(() -> ran.add(batch * 2), () -> ran.add(batch * 2 + 1))));
        if (b % 7 == 0) {
          engine.await(fences.get(b / 2)); // help with an earlier batch now and then
        }
      }
      engine.await(fences.getLast());
      for (CompletableFuture<Void> f : fences) {
        assertTrue(f.isDone());
      }
    }
    assertEquals(4000, ran.size());
    for (int i = 0; i < ran.size(); i++) {
      assertEquals(i, ran.get(i), "packet " + i + " ran out of order");
    }
  }

  @Test
  void aWaitingThreadRunsQueuedBatchesItself() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocking = new CountDownLatch(1);
    List<String> ranOn = Collections.synchronizedList(new ArrayList<>());
    try (SdmaEngine engine = new SdmaEngine("sdma-busy")) {
      CompletableFuture<Void> first = engine.submit(List.of(() -> {
        blocking.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
      assertTrue(blocking.await(10, TimeUnit.SECONDS));
      // The device thread is inside the first batch; the second is queued behind it.
      CompletableFuture<Void> second = engine.submit(List.of(
          () -> ranOn.add(Thread.currentThread().getName())));
      Thread helper = Thread.ofPlatform().name("writer").start(() -> engine.await(second));
      release.countDown();
      helper.join(10_000);
      assertFalse(helper.isAlive(), "the waiting thread is still waiting");
      first.join();
      assertTrue(second.isDone());
    }
    assertEquals(1, ranOn.size(), "the second batch ran " + ranOn.size() + " times");
  }

  @Test
  void withoutADeviceThreadTheWaiterRunsTheQueueInOrder() {
    List<String> ran = Collections.synchronizedList(new ArrayList<>());
    SdmaEngine engine = new SdmaEngine("no-device-thread", false);
    List<CompletableFuture<Void>> fences = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int n = i;
      fences.add(engine.submit(List.of(() -> ran.add(n + " " + Thread.currentThread().getName()))));
    }
    String waiter = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      engine.await(fences.get(1));
      return Thread.currentThread().getName();
    });
    assertEquals(List.of("0 " + waiter, "1 " + waiter), ran,
        "the waiter ran up to the awaited batch, in order");
    assertFalse(fences.get(2).isDone(), "a batch behind the awaited one is left to the engine");
  }

  @Test
  void anErrorInAPacketFailsItsFenceAndTheEngineGoesOn() throws Exception {
    try (SdmaEngine engine = new SdmaEngine("sdma-error")) {
      CompletableFuture<Void> bad = engine.submit(List.of(() -> {
        throw new AssertionError("bad packet");
      }));
      CompletableFuture<Void> good = engine.submit(List.of(() -> { }));
      good.get(10, TimeUnit.SECONDS); // the device thread survived the error
      CompletionException e = assertThrows(CompletionException.class, () -> engine.await(bad));
      assertTrue(e.getCause() instanceof AssertionError, e.toString());
    }
  }

  @Test
  void aFailingPacketFailsItsFenceAndNotTheNext() {
    IllegalStateException boom = new IllegalStateException("copy fault");
    try (SdmaEngine engine = new SdmaEngine("sdma-fail")) {
      CompletableFuture<Void> bad = engine.submit(List.of(() -> {
        throw boom;
      }));
      CompletableFuture<Void> good = engine.submit(List.of(() -> { }));
      CompletionException e = assertThrows(CompletionException.class, () -> engine.await(bad));
      assertSame(boom, e.getCause());
      engine.await(good);
      assertTrue(good.isDone() && !good.isCompletedExceptionally());
    }
  }

  @Test
  void closeRunsWhatWasSubmitted() throws Exception {
    List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> last;
    try (SdmaEngine engine = new SdmaEngine("sdma-close")) {
      for (int i = 0; i < 100; i++) {
        int n = i;
        engine.submit(List.of(() -> ran.add(n)));
      }
      last = engine.submit(List.of(() -> ran.add(100)));
    }
    last.get(10, TimeUnit.SECONDS);
    assertEquals(101, ran.size());
  }
}

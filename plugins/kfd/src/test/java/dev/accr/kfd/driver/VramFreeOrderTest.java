package dev.accr.kfd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.Prot;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.testkit.Scenarios;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Freeing VRAM while a copy of a running process (another process's pre-dump) holds the
 * frees' lock: the free waits for the copy, and its range goes back to the allocator only once
 * its blocks are released. A buffer allocated meanwhile therefore gets another range and keeps
 * what it writes; were the range given back first, the new buffer would be placed on it, write
 * into the old blocks still installed, and lose its writes when the release went on.
 */
class VramFreeOrderTest {
  private static final long BUFFER_VA = 0x10_1000_0000L;
  private static final long SVM_VA = 0x20_0000_0000L;
  private static final long NEW_VA = 0x10_4000_0000L;
  private static final long SIZE = Vram.BLOCK;
  private static final int PAGE = 4096;

  @TempDir Path tmp;

  /** What gives the first process's VRAM back. */
  enum Free {
    /** A buffer freed (FREE_MEMORY). */
    BUFFER,
    /** An exported buffer whose last reference, its exporter's, is dropped. */
    EXPORTED_BUFFER,
    /** An SVM range's VRAM, freed with its process. */
    SVM_RANGE_WITH_ITS_PROCESS
  }

  @ParameterizedTest
  @EnumSource(Free.class)
  void aBufferAllocatedWhileAFreeWaitsKeepsWhatItWrites(Free what) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2);
    CountDownLatch goOn = new CountDownLatch(1);
    // A failure lets the parked copy go before the node closes: its close waits for the copy.
    try (Node node = KfdNodes.node("a", "mi100x2"); AutoCloseable letGo = goOn::countDown) {
      KfdProcess first = kfd(node, 4242);
      KfdProcess second = kfd(node, 4343);
      int gpuId = first.gpuIds().getFirst();
      Gpu gpu = KfdCriu.gpus(first).get(gpuId);
      Vram vram = gpu.vram();
      Runnable free = placeMemory(first, gpuId, what);
      assertEquals(SIZE, vram.residentBytes(), "the first process's VRAM is written");

      // A copy of a running process parks inside the frees' read lock, on an absent block.
      int parked = (int) (vram.capacity() / Vram.BLOCK) - 1;
      CountDownLatch copying = new CountDownLatch(1);
      vram.setFaults(new VramFaults() {
        @Override
        public void fault(int block) {
          if (block == parked) {
            copying.countDown();
            await(goOn);
          }
        }

        @Override
        public void released(int block) {}
      });
      Future<?> copy = threads.submit(() -> vram.copyOutRunning(parked * Vram.BLOCK,
          MemorySegment.ofArray(new byte[PAGE]), 0, PAGE));
      await(copying);
      Future<?> freeing = threads.submit(free);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!vram.freeWaiting()) { // the free is in: it waits for the copy
        assertTrue(!freeing.isDone() && !copy.isDone(), "the free and the copy are under way");
        assertTrue(System.nanoTime() < deadline, "the free did not wait for the copy in 10 s");
        Thread.onSpinWait();
      }

      // Meanwhile another process allocates as much VRAM and writes it whole.
      Bo fresh = second.buffer(second.allocVram(gpuId, NEW_VA, SIZE, 0));
      MemorySegment written = pattern();
      vram.copyIn(written, 0, fresh.vramOffset(), SIZE);

      goOn.countDown();
      copy.get(10, TimeUnit.SECONDS);
      freeing.get(10, TimeUnit.SECONDS);
      vram.setFaults(null);
      MemorySegment now = Arena.ofAuto().allocate(SIZE);
      vram.copyOut(fresh.vramOffset(), now, 0, SIZE);
      assertEquals(-1, now.mismatch(written), "the new buffer keeps what it wrote");
      assertEquals(SIZE, vram.residentBytes(), "only the new buffer's VRAM is left");
      second.close();
      first.close();
    } finally {
      threads.shutdownNow();
    }
  }

  /** Gives {@code kfd} one block of written VRAM of the kind {@code what} frees; its free. */
  private static Runnable placeMemory(KfdProcess kfd, int gpuId, Free what) {
    if (what == Free.SVM_RANGE_WITH_ITS_PROCESS) {
      kfd.svmRegister(SVM_VA, SIZE);
      kfd.svmSetAttributes(SVM_VA, gpuId, 0, Set.of(gpuId), SvmRange.FLAG_COHERENT, 0);
      kfd.svmPrefetch(SVM_VA, gpuId); // its pages move into a VRAM shadow
      return kfd::close;
    }
    int handle = kfd.allocVram(gpuId, BUFFER_VA, SIZE, 0);
    Bo bo = kfd.buffer(handle);
    bo.gpu().vram().copyIn(pattern(), 0, bo.vramOffset(), SIZE);
    if (what == Free.EXPORTED_BUFFER) {
      kfd.dmaBufOf(handle);
    }
    return () -> kfd.freeMemory(handle);
  }

  private KfdProcess kfd(Node node, int pid) {
    SimProcess p = node.newProcess(pid, Scenarios.registry().workload("kfd-train"), List.of(),
        tmp, 0);
    p.memory().mapAnonymous(SVM_VA, SIZE, Prot.RW, "svm");
    return p.files().device(p.files().openDevice(KfdProcess.PATH), KfdProcess.class);
  }

  private static MemorySegment pattern() {
    MemorySegment m = Arena.ofAuto().allocate(SIZE);
    for (long i = 0; i < SIZE; i += 8) {
      m.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, 0x5eed_0000L + i);
    }
    return m;
  }

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}

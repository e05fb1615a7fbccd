package dev.accr.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Samples peak heap (pools' peak usage) and, unless made {@link #heapOnly}, resident set growth
 * while open.
 */
final class MemoryWatch implements AutoCloseable {
  private final long rssAtStart = rss();
  private volatile long rssPeak = rssAtStart;
  private volatile boolean done;

  MemoryWatch() {
    this(true);
  }

  private MemoryWatch(boolean sampleRss) {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
    if (sampleRss) {
      Thread.ofPlatform().daemon().start(() -> {
        while (!done) {
          rssPeak = Math.max(rssPeak, rss());
          try {
            Thread.sleep(5);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
    }
  }

  /**
   * A watch of the heap's peak only: no sampling thread reads /proc every few milliseconds
   * (on two cores it takes a share of the time of what it watches, which a limit measured
   * without it does not pay).
   */
  static MemoryWatch heapOnly() {
    return new MemoryWatch(false);
  }

  long heapPeak() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  long rssGrowth() {
    return Math.max(0, rssPeak - rssAtStart);
  }

  /** The kernel's estimate of memory available without swapping; 0 when unknown. */
  static long available() {
    return meminfo(Path.of("/proc/meminfo"), "MemAvailable:");
  }

  private static long rss() {
    return meminfo(Path.of("/proc/self/status"), "VmRSS:");
  }

  /** A "Name: N kB" line of a /proc file, in bytes; 0 when missing. */
  private static long meminfo(Path file, String name) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(name)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }

  @Override
  public void close() {
    done = true;
  }
}

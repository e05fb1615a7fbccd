package dev.accr.kfd.driver;

import dev.accr.api.AccrException;

/** WAIT_EVENTS of a process, and what its queued packets will still signal. */
final class EventWaits {
  private EventWaits() {}

  /** See {@link KfdProcess#pendingSignals}. */
  static long pendingSignals(KfdProcess p, int event) {
    long n = 0;
    for (HwQueue q : p.queueList()) {
      for (long i = q.readIndex(); i < q.writeIndex(); i++) {
        long kind = Packets.word(p.process().memory(), q.ringVa(), q.slots(), i, 0);
        int word = kind == Packets.SIGNAL ? 1
            : kind == Packets.DISPATCH || kind == Packets.COPY ? 4 : -1;
        if (word > 0
            && Packets.word(p.process().memory(), q.ringVa(), q.slots(), i, word) == event) {
          n++;
        }
      }
    }
    return n;
  }

  /** See {@link KfdProcess#waitEvent}. */
  static void waitEvent(KfdProcess p, int event, long count) {
    try {
      while (!p.events.await(event, count, 50)) {
        if (p.isClosed()) {
          throw AccrException.failed("kfd: wait for event %d: /dev/kfd was closed", event);
        }
        for (HwQueue q : p.queueList()) {
          if (q.error() != null) {
            throw AccrException.failed("GPU fault: %s", q.error());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AccrException.failed("kfd: wait for event %d interrupted", event);
    }
  }
}

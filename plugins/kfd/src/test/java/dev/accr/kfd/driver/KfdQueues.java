package dev.accr.kfd.driver;

/** Test access to a process's queues from other packages. */
public final class KfdQueues {
  private KfdQueues() {}

  /** Waits until every packet written to {@code p}'s queues has completed (at most 20 s). */
  public static void drain(KfdProcess p) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!p.queueList().stream().allMatch(HwQueue::idle)) {
      for (HwQueue q : p.queueList()) {
        if (q.error() != null) {
          throw new AssertionError("queue " + q.queueId() + " faulted: " + q.error());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the queues of pid " + p.pid() + " did not drain");
      }
      Thread.sleep(2);
    }
  }
}

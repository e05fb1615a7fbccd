package dev.accr.kfd.driver;

import dev.accr.api.MemoryView;
import dev.accr.kfd.proto.QueueType;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

/**
 * A user-mode queue on a GPU: a ring of packets in host memory, read and write indexes, and a
 * device thread that runs the packets in order, a dispatch workgroup by workgroup (an SDMA
 * copy page by page). Pausing preempts at the next unit boundary and records the packet in
 * progress and the next unit in the control stack, from which it resumes, here or after a
 * restore.
 */
public final class HwQueue implements AutoCloseable {
  private final int queueId;
  private final int gpuId;
  private final QueueType type;
  private final int priority;
  private final long ringVa;
  private final int slots;
  private final GpuVm vm;
  private final MemoryView host;
  private final SignalEvents events;
  private final Thread thread;
  /** The slowest a simulated device runs a unit: a packet asking for more is capped. */
  static final long MAX_MICROS_PER_UNIT = 100_000;

  private long readIndex;
  private long writeIndex;
  private long ctlPacket = -1;
  private int ctlNextUnit;
  private volatile boolean paused;
  private boolean running;
  private boolean stopping;
  private volatile String error;

  HwQueue(int queueId, int gpuId, QueueType type, int priority, long ringVa, int slots, GpuVm vm,
      MemoryView host, SignalEvents events, boolean startPaused) {
    this.queueId = queueId;
    this.gpuId = gpuId;
    this.type = type;
    this.priority = priority;
    this.ringVa = ringVa;
    this.slots = slots;
    this.vm = vm;
    this.host = host;
    this.events = events;
    this.paused = startPaused;
    this.thread = Thread.ofPlatform().name("kfd-queue-" + queueId + "-gpu-" + gpuId).daemon()
        .unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  public int queueId() {
    return queueId;
  }

  public int gpuId() {
    return gpuId;
  }

  public QueueType type() {
    return type;
  }

  public int priority() {
    return priority;
  }

  public long ringVa() {
    return ringVa;
  }

  public int slots() {
    return slots;
  }

  public synchronized long readIndex() {
    return readIndex;
  }

  public synchronized long writeIndex() {
    return writeIndex;
  }

  /** The fault that stopped the queue, or null. */
  public String error() {
    return error;
  }

  /** The packet in progress when preempted and its next unit, or -1. */
  public synchronized long preemptedPacket() {
    return ctlPacket;
  }

  public synchronized int preemptedNextUnit() {
    return ctlNextUnit;
  }

  /** Restores indexes and control stack (the queue is paused). */
  synchronized void restoreState(long read, long write, long packet, int nextUnit) {
    readIndex = read;
    writeIndex = write;
    ctlPacket = packet;
    ctlNextUnit = nextUnit;
  }

  /**
   * What is wrong with the restored progress against the packet it is in, or null: the next
   * unit must lie within the preempted packet's grid (a copy's pages), as only a preemption
   * can have recorded it. Reads the ring, so the host memory must be restored.
   */
  synchronized String preemptedProgressProblem() {
    if (ctlPacket < 0) {
      return null;
    }
    long kind = Packets.word(host, ringVa, slots, ctlPacket, 0);
    long units;
    if (kind == Packets.DISPATCH && type == QueueType.COMPUTE) {
      units = Packets.word(host, ringVa, slots, ctlPacket, 2);
    } else if (kind == Packets.COPY && type == QueueType.SDMA) {
      long bytes = Packets.word(host, ringVa, slots, ctlPacket, 3);
      units = bytes < 0 ? -1 : (bytes + GpuVm.PAGE - 1) / GpuVm.PAGE;
    } else if (kind == Packets.WAIT_EVENT || kind == Packets.SIGNAL) {
      units = 0;
    } else {
      return String.format("queue %d: preempted packet %d has type %d", queueId, ctlPacket, kind);
    }
    if (units < 0 || units > Integer.MAX_VALUE || ctlNextUnit < 0 || ctlNextUnit > units) {
      return String.format("queue %d: next workgroup %d of preempted packet %d is beyond its"
          + " grid of %d", queueId, Integer.toUnsignedLong(ctlNextUnit), ctlPacket, units);
    }
    return null;
  }

  /** The program rang the doorbell: packets up to {@code newWriteIndex} are ready. */
  synchronized void ringDoorbell(long newWriteIndex) {
    if (newWriteIndex < writeIndex || newWriteIndex - readIndex > slots) {
      throw new GpuFault(String.format("queue %d: write index %d is behind %d or overruns the"
          + " ring (%d slots, read index %d)", queueId, newWriteIndex, writeIndex, slots, readIndex));
    }
    writeIndex = newWriteIndex;
    notifyAll();
  }

  /** Preempts the queue at the next unit boundary; returns once the device thread stopped. */
  void pause() {
    requestPause();
    awaitPaused();
  }

  /**
   * Asks the queue to stop at its next unit boundary, without waiting: a process's queues
   * asked one after the other all reach theirs at once (see {@link #awaitPaused}).
   */
  synchronized void requestPause() {
    paused = true;
    notifyAll();
    events.wakeAll();
    LockSupport.unpark(thread); // out of a slow unit's delay
  }

  /** Returns once the device thread of a queue asked to pause has stopped. */
  synchronized void awaitPaused() {
    while (running) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  synchronized void resume() {
    paused = false;
    notifyAll();
  }

  public boolean paused() {
    return paused;
  }

  /** Whether every packet written has completed. */
  public synchronized boolean idle() {
    return readIndex == writeIndex;
  }

  private void run() {
    while (true) {
      long index;
      synchronized (this) {
        while (!stopping && (paused || readIndex >= writeIndex || error != null)) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stopping) {
          return;
        }
        running = true;
        index = readIndex;
      }
      boolean done = false;
      int completion = 0;
      try {
        completion = execute(index);
        done = completion >= 0;
      } catch (RuntimeException e) { // a fault: the queue stops, waiters see the error
        error = "queue " + queueId + " on gpu 0x" + Integer.toHexString(gpuId) + ": "
            + e.getMessage();
        events.wakeAll();
      } finally {
        synchronized (this) {
          if (done) {
            readIndex++;
            ctlPacket = -1;
            ctlNextUnit = 0;
          }
          if (completion > 0) {
            // Signalled with the packet retired and before a pause can see the queue stopped:
            // a waiter then sees final indexes, and a checkpoint sees index and count agree.
            events.signal(completion);
          }
          running = false;
          notifyAll();
        }
      }
    }
  }

  /**
   * Runs packet {@code index} from its saved progress. Returns the event to signal on
   * completion (0 for none), or -1 if preempted before the end.
   */
  private int execute(long index) {
    long kind = Packets.word(host, ringVa, slots, index, 0);
    int first = ctlPacket == index ? ctlNextUnit : 0;
    if (kind == Packets.WAIT_EVENT) {
      int event = (int) Packets.word(host, ringVa, slots, index, 1);
      long target = Packets.word(host, ringVa, slots, index, 2);
      while (true) {
        if (paused) {
          preemptAt(index, 0);
          return -1;
        }
        try {
          if (events.await(event, target, 20)) {
            return 0;
          }
        } catch (InterruptedException e) {
          preemptAt(index, 0);
          return -1;
        }
      }
    }
    if (kind == Packets.SIGNAL) {
      return (int) Packets.word(host, ringVa, slots, index, 1);
    }
    int units;
    int completion;
    long micros = 0;
    if (kind == Packets.DISPATCH && type == QueueType.COMPUTE) {
      units = (int) Packets.word(host, ringVa, slots, index, 2);
      completion = (int) Packets.word(host, ringVa, slots, index, 4);
      micros = Math.min(Packets.word(host, ringVa, slots, index, 5), MAX_MICROS_PER_UNIT);
    } else if (kind == Packets.COPY && type == QueueType.SDMA) {
      long bytes = Packets.word(host, ringVa, slots, index, 3);
      units = (int) ((bytes + GpuVm.PAGE - 1) / GpuVm.PAGE);
      completion = (int) Packets.word(host, ringVa, slots, index, 4);
    } else {
      throw new GpuFault("invalid packet type " + kind + " on a " + type + " queue at index "
          + index);
    }
    GpuKernel kernel = kind == Packets.DISPATCH
        ? Kernels.get(Packets.word(host, ringVa, slots, index, 1)) : null;
    if (kernel != null && !vm.hasCodeFor(gpuId)) {
      throw new GpuFault(String.format("dispatch at index %d: no code object for gfx target %d"
          + " (loaded: %s)", index, vm.gpu(gpuId).device().getGfxTargetVersion(),
          vm.codeObjectIsas()));
    }
    KernelContext ctx = new KernelContext(vm, gpuId, Packets.word(host, ringVa, slots, index, 3));
    for (int unit = first; unit < units; unit++) {
      if (paused) {
        preemptAt(index, unit);
        return -1;
      }
      if (kernel != null) {
        kernel.run(ctx, unit);
      } else {
        copyPage(index, unit);
      }
      if (micros > 0) {
        LockSupport.parkNanos(micros * 1000); // a slower device
      }
    }
    return Math.max(0, completion);
  }

  private void copyPage(long index, int unit) {
    long src = Packets.word(host, ringVa, slots, index, 1) + (long) unit * GpuVm.PAGE;
    long dst = Packets.word(host, ringVa, slots, index, 2) + (long) unit * GpuVm.PAGE;
    long bytes = Packets.word(host, ringVa, slots, index, 3);
    int n = (int) Math.min(GpuVm.PAGE, bytes - (long) unit * GpuVm.PAGE);
    if (src % GpuVm.PAGE != 0 || dst % GpuVm.PAGE != 0) {
      throw new GpuFault(String.format("SDMA copy 0x%x -> 0x%x is not page aligned", src, dst));
    }
    MemorySegment from = vm.access(gpuId, src, n, false);
    MemorySegment to = vm.access(gpuId, dst, n, true);
    MemorySegment.copy(from, 0, to, 0, n);
  }

  private synchronized void preemptAt(long index, int unit) {
    ctlPacket = index;
    ctlNextUnit = unit;
  }

  /** Stops the device thread (the queue is destroyed). */
  @Override
  public void close() {
    synchronized (this) {
      stopping = true;
      paused = true;
      notifyAll();
    }
    events.wakeAll();
    thread.interrupt(); // out of any wait or delay: the queue is gone
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

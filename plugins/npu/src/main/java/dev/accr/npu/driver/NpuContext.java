package dev.accr.npu.driver;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceFile;
import dev.accr.api.ProcessView;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * A process's open npu: its device memory, its job queue and the device thread that runs the
 * jobs in order, and the checkpoint state machine the driver offers (after cuda-checkpoint):
 *
 * <pre>
 * RUNNING --lock--> LOCKED --checkpoint--> CHECKPOINTED --restore--> LOCKED --unlock--> RUNNING
 * </pre>
 *
 * {@link #lock} stops new work and waits, up to a timeout, for the jobs in flight to finish;
 * {@link #checkpoint} copies device memory and state into the process's host memory and
 * releases the device; {@link #restore} acquires a device again (this one or another) and
 * copies everything back to the same device addresses; {@link #unlock} lets work in again.
 *
 * <p>Calls a program makes never block on the lock: while the context is not running,
 * {@link #submit} answers {@link #RETRY} after a short wait, and the program tries again at its
 * next step, like a system call restarted after a signal. That lets the freezer stop the
 * process between steps while its device is locked.
 */
public final class NpuContext implements DeviceFile {
  /** The states of the checkpoint state machine. */
  public enum State {
    RUNNING,
    LOCKED,
    CHECKPOINTED
  }

  /** What {@link #submit} returns when the device takes no work now. */
  public static final long RETRY = -1;
  private static final long RETRY_WAIT_MS = 20;

  private final NpuDriver driver;
  private final ProcessView process;
  private final DeviceMemory memory;
  private final ArrayDeque<Jobs.Job> queue = new ArrayDeque<>();
  private State state;
  private long submitted;
  private long completed;
  private String fault;
  private Thread engine;
  private long saveAddress;
  private long saveLength;
  private SaveArea.State pendingRestore; // checked, not yet restored
  private boolean closed;

  NpuContext(NpuDriver driver, ProcessView process, Npu npu, State initial) {
    this.driver = driver;
    this.process = process;
    this.memory = new DeviceMemory(npu);
    this.state = initial;
    if (initial == State.RUNNING) {
      startEngine();
    }
  }

  @Override
  public String path() {
    return memory.npu().path();
  }

  public int pid() {
    return process.pid();
  }

  /** The npu the context runs on (after a restore, the one it was restored onto). */
  public Npu npu() {
    return memory.npu();
  }

  public synchronized State state() {
    return state;
  }

  /** Allocates device memory and returns its device address. */
  public long allocate(long bytes) {
    requireState(State.RUNNING, "allocate");
    return memory.allocate(bytes);
  }

  /** Bytes of device memory held. */
  public long allocatedBytes() {
    return memory.bytes();
  }

  /**
   * Submits the job whose descriptor is at {@code descriptorVa} in host memory. Returns its
   * fence: the job is done once {@link #completed()} reaches it; or {@link #RETRY} if the
   * device is locked.
   */
  public synchronized long submit(long descriptorVa) {
    throwIfFaulted();
    if (state != State.RUNNING) {
      waitQuietly(RETRY_WAIT_MS);
      if (state != State.RUNNING) {
        return RETRY;
      }
    }
    queue.add(Jobs.read(process.memory(), descriptorVa));
    notifyAll();
    return ++submitted;
  }

  /** Jobs completed so far. */
  public synchronized long completed() {
    return completed;
  }

  /**
   * Waits up to {@code timeoutMs} until {@code fence} is completed; false if it was not (the
   * program tries again later).
   *
   * @throws AccrException if a job faulted (the program crashes)
   */
  public synchronized boolean awaitFence(long fence, long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (completed < fence && fault == null && state != State.CHECKPOINTED) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        break;
      }
      try {
        wait(Math.max(1, left));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the process is being killed: stop waiting
        throw AccrException.failed("%s: wait for fence %d of process %d interrupted", npu(),
            fence, pid());
      }
    }
    throwIfFaulted();
    return completed >= fence;
  }

  /**
   * Locks the context: no new work is taken, and the jobs in flight run to their end. Returns
   * how many jobs it waited for.
   *
   * @throws AccrException if they have not finished after {@code timeoutMs}; the context then
   *     runs on as before
   */
  public synchronized long lock(long timeoutMs) {
    requireState(State.RUNNING, "lock");
    state = State.LOCKED;
    notifyAll();
    long inFlight = submitted - completed;
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (completed < submitted && fault == null) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        state = State.RUNNING;
        notifyAll();
        throw AccrException.failed("%s: lock of process %d timed out after %d ms with %d of %d"
            + " jobs still in flight", npu(), pid(), timeoutMs, submitted - completed, inFlight);
      }
      waitQuietly(left);
    }
    if (fault != null) {
      state = State.RUNNING;
      throw AccrException.failed("%s: process %d: %s", npu(), pid(), fault);
    }
    return inFlight;
  }

  /**
   * Copies device memory and state into host memory at this context's save area, then frees
   * the device memory and stops the device thread. Returns the area's address.
   */
  public long checkpoint() {
    synchronized (this) {
      requireState(State.LOCKED, "checkpoint");
    }
    stopEngine();
    long at = SaveArea.address(driver.slotOf(this));
    SaveArea.State saved;
    synchronized (this) {
      saved = new SaveArea.State(submitted, completed, memory.nextVa(), memory.table());
    }
    long length = SaveArea.write(process.memory(), at, saved, memory);
    memory.close();
    synchronized (this) {
      saveAddress = at;
      saveLength = length;
      state = State.CHECKPOINTED;
      notifyAll();
    }
    return at;
  }

  public synchronized long saveAddress() {
    return saveAddress;
  }

  public synchronized long saveLength() {
    return saveLength;
  }

  /**
   * Acquires {@code target} and recreates device memory and state from the save area at
   * {@code at} (as the image recorded it), at the same device addresses; the area is then
   * unmapped. The context is LOCKED afterwards.
   *
   * @throws dev.accr.api.CorruptImageException if the area is damaged
   */
  public void restore(Npu target, long at, long length, long allocatedBytes) {
    synchronized (this) {
      requireState(State.CHECKPOINTED, "restore");
    }
    SaveArea.State saved = readSaveArea(at, length, allocatedBytes);
    memory.rebind(target, saved.nextVa());
    try {
      SaveArea.load(process.memory(), at, saved, memory);
    } catch (RuntimeException e) {
      memory.close();
      throw e;
    }
    process.memory().unmap(at, length);
    synchronized (this) {
      submitted = saved.submitted();
      completed = saved.completed();
      saveAddress = 0;
      saveLength = 0;
      pendingRestore = null;
      state = State.LOCKED;
    }
    startEngine();
  }

  /**
   * Reads and checks the save area at {@code at} before anything is allocated for it; until
   * the restore, {@link #submitted()} and {@link #allocationBytes} answer from it.
   *
   * @throws dev.accr.api.CorruptImageException naming {@code npu-devices-<pid>.img}
   */
  public void checkSaveArea(long at, long length, long allocatedBytes) {
    SaveArea.State saved = readSaveArea(at, length, allocatedBytes);
    synchronized (this) {
      if (state == State.CHECKPOINTED) {
        pendingRestore = saved;
      }
    }
  }

  private SaveArea.State readSaveArea(long at, long length, long allocatedBytes) {
    return SaveArea.read(process.memory(), at, length, allocatedBytes,
        "npu-devices-" + pid() + ".img");
  }

  /** Jobs submitted so far: fences up to this one were handed out. */
  public synchronized long submitted() {
    return state == State.CHECKPOINTED && pendingRestore != null ? pendingRestore.submitted()
        : submitted;
  }

  /** The size of the allocation at device address {@code va}, or -1 if there is none. */
  public synchronized long allocationBytes(long va) {
    Long size = state == State.CHECKPOINTED && pendingRestore != null
        ? pendingRestore.table().get(va) : memory.table().get(va);
    return size == null ? -1 : size;
  }

  /**
   * Checks what an image says of a save area before the area is read: whole pages inside the
   * slots of save areas.
   *
   * @throws dev.accr.api.CorruptImageException naming {@code file} if it is out of range
   */
  public static void checkSavedEntry(long at, long length, long allocatedBytes, String file) {
    SaveArea.checkPlace(at, length, allocatedBytes, file);
  }

  /** Restores onto the npu it was checkpointed from (a failed or leave-running dump). */
  public void restoreInPlace() {
    restore(npu(), saveAddress(), saveLength(), Long.MAX_VALUE);
  }

  /** Lets new work in again. */
  public synchronized void unlock() {
    requireState(State.LOCKED, "unlock");
    state = State.RUNNING;
    notifyAll();
  }

  private void requireState(State wanted, String operation) {
    synchronized (this) {
      if (state != wanted) {
        throw AccrException.failed("%s: %s of process %d: it is %s, not %s", npu(), operation,
            pid(), state, wanted);
      }
    }
  }

  private void throwIfFaulted() {
    if (fault != null) {
      throw AccrException.failed("npu fault: %s", fault);
    }
  }

  private void waitQuietly(long ms) {
    try {
      wait(Math.max(1, ms));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void startEngine() {
    engine = Thread.ofPlatform().daemon().name("npu-" + npu().npuId() + "-pid-" + pid())
        .start(this::runJobs);
  }

  private void stopEngine() {
    Thread t;
    synchronized (this) {
      t = engine;
      engine = null;
      notifyAll();
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void runJobs() {
    Thread self = Thread.currentThread();
    while (true) {
      Jobs.Job job;
      synchronized (this) {
        while (engine == self && (queue.isEmpty() || fault != null)) {
          waitQuietly(1_000);
          if (self.isInterrupted()) {
            return;
          }
        }
        if (engine != self) {
          return;
        }
        job = queue.peek();
      }
      try {
        Jobs.run(job, memory, process.memory());
      } catch (RuntimeException e) {
        synchronized (this) {
          fault = e.getMessage();
        }
      } finally {
        synchronized (this) {
          if (fault == null) {
            queue.poll();
            completed++;
          }
          notifyAll();
        }
      }
    }
  }

  /** Device memory contents and the job counters; the npu's id is left out. */
  @Override
  public synchronized void digest(MessageDigest digest) {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    digest.update(b.putLong(submitted).putLong(completed).flip());
    if (state == State.CHECKPOINTED) {
      return;
    }
    for (Map.Entry<Long, Long> e : memory.table().entrySet()) {
      digest.update(b.clear().putLong(e.getKey()).putLong(e.getValue()).flip());
      MemorySegment data = memory.at(e.getKey(), e.getValue());
      digest.update(data.asByteBuffer());
    }
  }

  /** Frees the device memory and stops the device thread (the descriptor closes). */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    stopEngine();
    memory.close();
    driver.forget(this);
  }
}

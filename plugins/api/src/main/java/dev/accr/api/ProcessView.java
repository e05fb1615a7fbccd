package dev.accr.api;

/**
 * A simulated process as the program it runs sees it.
 *
 * <p>Process trees (API 6): a process has a parent ({@link #ppid}, 0 for a process started by
 * {@code accr run}, which is the root of its tree), a process group and a session. A program
 * creates children with {@link #fork}, reaps them with {@link #waitChild} and signals them with
 * {@link #kill}. Calls that would block in a real kernel (a read of an empty pipe, a wait for a
 * child that runs) return at once with a "would block" answer; the program then returns from
 * its step, and the process sleeps until what it waited on changes before the next step (a
 * blocked process is a normal state at freeze time: it tries again when thawed).
 */
public interface ProcessView {
  int pid();

  /** Number of threads; threads are numbered from 0. */
  int threadCount();

  ThreadView thread(int index);

  /** Adds a thread (used while a program sets itself up) and returns it. */
  ThreadView addThread();

  MemoryView memory();

  FileView files();

  /** The directory the process was started from; relative paths resolve against it. */
  String workingDirectory();

  /** The parent's pid (API 6); 0 for the root of a tree (a process {@code accr run} started). */
  default int ppid() {
    return 0;
  }

  /** The process group (API 6); a root starts as the leader of its own group. */
  default int pgid() {
    return pid();
  }

  /** The session (API 6); a root starts as the leader of its own session. */
  default int sid() {
    return pid();
  }

  /**
   * Creates a child process, like {@code fork(2)} (API 6), and returns its pid. The child runs
   * the same workload, starting at its next step once the caller's step has returned; it gets a
   * copy of the caller's registers (every thread's) and private memory as they are at this
   * call, so a program writes into its registers what the child is to do before calling, and
   * sets its own state after. The child shares the caller's MAP_SHARED mappings and memfd
   * mappings (one set of frames), and inherits its file descriptors: each refers to the same
   * open file description (same position, same pipe end). Device files and device mappings are
   * not inherited (as {@code VM_DONTCOPY}): a child opens its own devices. The child is in the
   * caller's process group and session, with no pending signals.
   *
   * @throws AccrException (exit code 1) when the node's process or memory limit refuses it
   */
  default int fork() {
    throw Signals.unsupported("fork");
  }

  /**
   * Waits for child {@code pid}, like {@code waitpid(pid, WNOHANG)} (API 6): its exit status
   * (0..255 when it exited, {@code 128 + signal} when a signal ended it) once it has exited,
   * and then it is reaped (gone from the process table, its digest added to this process's
   * account of its descendants); {@link FileView#WOULD_BLOCK} while it runs, and this process
   * sleeps after its step until a child exits. With {@code pid} -1, any child: the exited one
   * with the lowest pid (a program that reaps this way keeps no pids in its state, so its
   * digest does not depend on the pids the node gave).
   *
   * @throws AccrException (exit code 1) if {@code pid} is not a child of this process, or is
   *     -1 and the process has no children
   */
  default int waitChild(int pid) {
    throw Signals.unsupported("waitChild");
  }

  /**
   * The status the process exits with when its program's step returns {@code false} (API 6);
   * 0 unless set.
   */
  default void setExitStatus(int status) {
    throw Signals.unsupported("setExitStatus");
  }

  /**
   * Moves process {@code pid} (0: this one; otherwise this one or a child) into process group
   * {@code pgid} (0: a new group led by {@code pid}), like {@code setpgid(2)} (API 6). The
   * group must be in the caller's session.
   *
   * @throws AccrException (exit code 1) for another process, or a group of another session
   */
  default void setpgid(int pid, int pgid) {
    throw Signals.unsupported("setpgid");
  }

  /**
   * Makes this process the leader of a new session and of a new process group, like {@code
   * setsid(2)} (API 6); returns the session id (this pid).
   *
   * @throws AccrException (exit code 1) if the process already leads a process group
   */
  default int setsid() {
    throw Signals.unsupported("setsid");
  }

  /**
   * Sends {@code signal} (see {@link Signals}) to process {@code pid} of the node, to the
   * caller's process group when {@code pid} is 0, or to process group {@code -pid}, like {@code
   * kill(2)} (API 6). Signal 0 checks only that the target exists. The signal is pending in the
   * target until delivered.
   *
   * @throws AccrException with exit code 5 if no such process or group lives
   */
  default void kill(int pid, int signal) {
    throw Signals.unsupported("kill");
  }

  /** The signals pending for this process, as a mask of {@link Signals#bit} (API 6). */
  default long pendingSignals() {
    return 0;
  }

  /**
   * Takes {@code signal} off the pending set, like {@code sigtimedwait} with no wait (API 6);
   * whether it was pending.
   */
  default boolean takeSignal(int signal) {
    throw Signals.unsupported("takeSignal");
  }

  /**
   * Catches {@code signal} (API 6): a signal whose default action ends the process stays
   * pending instead, for the program to take. {@link Signals#SIGKILL} cannot be caught.
   */
  default void catchSignal(int signal) {
    throw Signals.unsupported("catchSignal");
  }
}

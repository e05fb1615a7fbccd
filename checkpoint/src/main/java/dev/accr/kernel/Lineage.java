package dev.accr.kernel;

import dev.accr.api.Signals;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The kernel state of a process in its tree: parent, process group, session, children,
 * signals, exit status, and the account of the descendants it reaped (see {@link TreeDigest}).
 * All of it is process state that a checkpoint saves. Guarded by the node's process-table
 * lock, except the signal masks, which are atomic.
 */
public final class Lineage {
  private int ppid;
  private int pgid;
  private int sid;
  private final TreeSet<Integer> children = new TreeSet<>();
  private final AtomicLong pendingSignals = new AtomicLong();
  private final AtomicLong caughtSignals = new AtomicLong();
  private int statusOnReturn;
  private boolean exited;
  private int exitStatus;
  private String ownDigest;
  private final long[] descendantSum = new long[TreeDigest.LANES];
  private long descendants;

  Lineage(int ppid, int pgid, int sid) {
    this.ppid = ppid;
    this.pgid = pgid;
    this.sid = sid;
  }

  /** The parent's pid; 0 for the root of a tree. */
  public synchronized int ppid() {
    return ppid;
  }

  public synchronized int pgid() {
    return pgid;
  }

  public synchronized int sid() {
    return sid;
  }

  /** Pids of the children, live or zombie, in pid order. */
  public synchronized List<Integer> children() {
    return List.copyOf(children);
  }

  public long pendingSignals() {
    return pendingSignals.get();
  }

  public long caughtSignals() {
    return caughtSignals.get();
  }

  /** The status set for the process's normal exit ({@code setExitStatus}). */
  public synchronized int statusOnReturn() {
    return statusOnReturn;
  }

  /** Whether the process has exited (it is a zombie while it stays in the table). */
  public synchronized boolean exited() {
    return exited;
  }

  /** The exit status of an exited process. */
  public synchronized int exitStatus() {
    return exitStatus;
  }

  /** The digest of the process's own state at exit (null if it left none, or runs). */
  public synchronized String ownDigest() {
    return ownDigest;
  }

  /** The lane-wise sum of the digests of the descendants reaped into this process. */
  public synchronized long[] descendantSum() {
    return descendantSum.clone();
  }

  /** How many descendants were reaped into this process. */
  public synchronized long descendants() {
    return descendants;
  }

  /** The digest of this process and every descendant reaped into it so far. */
  public synchronized String treeDigest() {
    return TreeDigest.of(ownDigest, descendantSum, descendants);
  }

  /**
   * Sets the state a restored process had when it was dumped (its children are set as they
   * join the table). A zombie is restored with {@code exited}, its status and own digest.
   */
  public synchronized void restore(Restored r) {
    ppid = r.ppid();
    pgid = r.pgid();
    sid = r.sid();
    pendingSignals.set(r.pendingSignals());
    caughtSignals.set(r.caughtSignals());
    statusOnReturn = r.statusOnReturn();
    exited = r.exited();
    exitStatus = r.exitStatus();
    ownDigest = r.ownDigest();
    System.arraycopy(r.descendantSum(), 0, descendantSum, 0, TreeDigest.LANES);
    descendants = r.descendants();
  }

  /** The saved form of a lineage (what a restore gives {@link #restore}). */
  public record Restored(int ppid, int pgid, int sid, long pendingSignals, long caughtSignals,
      int statusOnReturn, boolean exited, int exitStatus, String ownDigest,
      long[] descendantSum, long descendants) {
    public Restored {
      if (descendantSum.length != TreeDigest.LANES) {
        throw new IllegalArgumentException("descendant sum has " + descendantSum.length
            + " lanes, not " + TreeDigest.LANES);
      }
      descendantSum = descendantSum.clone();
    }
  }

  /** This lineage in its saved form. */
  public synchronized Restored saved() {
    return new Restored(ppid, pgid, sid, pendingSignals.get(), caughtSignals.get(),
        statusOnReturn, exited, exitStatus, ownDigest, descendantSum, descendants);
  }

  synchronized void setParent(int ppid) {
    this.ppid = ppid;
  }

  synchronized void setGroup(int pgid) {
    this.pgid = pgid;
  }

  synchronized void setSession(int sid) {
    this.sid = sid;
    this.pgid = sid;
  }

  synchronized void addChild(int pid) {
    children.add(pid);
  }

  synchronized boolean removeChild(int pid) {
    return children.remove(pid);
  }

  synchronized void setStatusOnReturn(int status) {
    statusOnReturn = status;
  }

  synchronized void markExited(int status, String own) {
    exited = true;
    exitStatus = status;
    ownDigest = own;
  }

  /** Adds a reaped child's account to this one. */
  synchronized void addReaped(Lineage child) {
    synchronized (child) {
      TreeDigest.add(descendantSum, child.ownDigest, child.descendantSum);
      descendants += 1 + child.descendants;
    }
  }

  void raise(int signal) {
    long bit = Signals.bit(signal);
    pendingSignals.getAndUpdate(m -> m | bit);
  }

  boolean take(int signal) {
    long bit = Signals.bit(signal);
    return (pendingSignals.getAndUpdate(m -> m & ~bit) & bit) != 0;
  }

  void catchSignal(int signal) {
    long bit = Signals.bit(signal);
    caughtSignals.getAndUpdate(m -> m | bit);
  }

  /** A pending signal that ends the process now (lowest first), or 0. */
  int fatalPending() {
    long pending = pendingSignals.get();
    if ((pending & Signals.bit(Signals.SIGKILL)) != 0) {
      return Signals.SIGKILL;
    }
    long caught = caughtSignals.get();
    for (long m = pending & ~caught; m != 0; m &= m - 1) {
      int signal = Long.numberOfTrailingZeros(m) + 1;
      if (Signals.fatalByDefault(signal)) {
        return signal;
      }
    }
    return 0;
  }

  /** The lineage of a fork's child: same group, session and caught signals; nothing pending. */
  synchronized Lineage forChild(int parentPid) {
    Lineage child = new Lineage(parentPid, pgid, sid);
    child.caughtSignals.set(caughtSignals.get());
    child.statusOnReturn = 0;
    return child;
  }
}

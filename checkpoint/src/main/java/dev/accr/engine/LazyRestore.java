package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.LazyDeviceMemory;
import dev.accr.api.LazyRestoreHost;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A lazy restore under way: the process runs while its host pages ({@link LazyPages}) and the
 * device memory of plugins that restore lazily ({@link LazyDeviceMemory}) are loaded on first
 * touch, and a background pusher loads the rest, taking turns between them. Once everything is
 * in, the address space goes back to its usual fault path and the page source is released;
 * if anything cannot be loaded (a damaged chunk, the source node gone), the process is killed
 * with the reason. A tree's restore is one lazy restore: each process of it has its own host
 * pages ({@link #addProcess}), one pusher loads them all, and a failure kills every process.
 */
public final class LazyRestore implements LazyRestoreHost {
  /** How far the loading got: pages (host) and units (device memory) by fault and by push. */
  public record Progress(long pagesTotal, long pagesFaulted, long pagesPushed,
      List<DeviceProgress> devices, List<String> eager, boolean done, String failure,
      long millis) {}

  /** One plugin's lazily restored device memory. */
  public record DeviceProgress(String name, long units, long unitBytes, long faulted,
      long pushed) {}

  private final SimProcess process;
  private final Node node;
  private final LazyPages host;
  /** The other processes of a tree and their host pages (the root is {@link #process}). */
  private final List<Member> members = new CopyOnWriteArrayList<>();
  private final List<LazyDeviceMemory> devices = new CopyOnWriteArrayList<>();
  private final List<String> eager = new CopyOnWriteArrayList<>();
  private final boolean checkFirst;
  private final long startNanos = System.nanoTime();
  private volatile boolean done;
  private volatile String failure;
  private volatile long millis;
  private volatile Consumer<Progress> onEnd = p -> {};
  private Thread pusher;

  LazyRestore(SimProcess process, Node node, PageSource source, boolean checkFirst) {
    this.process = process;
    this.node = node;
    this.host = new LazyPages(process.memory(), source);
    this.checkFirst = checkFirst;
    process.memory().setPageFaults(host);
  }

  private record Member(SimProcess process, LazyPages host) {}

  /** Makes process {@code p} of the same tree load its host pages from {@code source} too. */
  void addProcess(SimProcess p, PageSource source) {
    LazyPages pages = new LazyPages(p.memory(), source);
    p.memory().setPageFaults(pages);
    members.add(new Member(p, pages));
  }

  /** Whether every process of the restore has ended. */
  private boolean allEnded() {
    return process.state() == SimProcess.State.EXITED
        && members.stream().allMatch(m -> m.process().state() == SimProcess.State.EXITED);
  }

  /** Whether every host page of every process of the restore is in. */
  private boolean allIn() {
    return host.pagesFaulted() + host.pagesPushed() >= host.pagesTotal()
        && members.stream().allMatch(m -> m.host().pagesFaulted() + m.host().pagesPushed()
            >= m.host().pagesTotal());
  }

  /** Whether the images were checked before the process ran (device plugins do the same). */
  @Override
  public boolean checkFirst() {
    return checkFirst;
  }

  @Override
  public void add(LazyDeviceMemory memory) {
    devices.add(memory);
  }

  /** Notes that {@code plugin}'s device memory was restored eagerly. */
  void eager(String plugin) {
    if (!eager.contains(plugin)) {
      eager.add(plugin);
    }
  }

  @Override
  public void failed(String reason) {
    fail(reason);
  }

  /** Calls {@code c} once with the final figures when loading ends (all in, or failed). */
  public void onEnd(Consumer<Progress> c) {
    onEnd = c;
    if (done || failure != null) {
      c.accept(progress());
    }
  }

  /** Whether the calling thread is this restore's background pusher (not a first touch). */
  public boolean pushing() {
    synchronized (this) {
      return Thread.currentThread() == pusher;
    }
  }

  /** Starts the background pusher; the process runs. */
  synchronized void start() {
    pusher = Thread.ofPlatform().name("lazy-push-" + process.pid()).daemon().start(this::push);
  }

  private void push() {
    try {
      boolean more = true;
      while (more) {
        more = pushNext(process, host);
        for (Member m : members) {
          more |= pushNext(m.process(), m.host());
        }
        for (LazyDeviceMemory d : devices) {
          more |= d.pushNext();
        }
        // A process that ended with everything in (its touches loaded it all) is done.
        if (more && allEnded()) {
          abandon("process " + process.pid() + " has ended");
          return;
        }
      }
      if (allEnded() && !allIn()) {
        // The pusher skipped processes that ended (a kill, a page that could not be had).
        abandon("process " + process.pid() + " has ended");
        return;
      }
      finish();
    } catch (RuntimeException e) {
      millis = (System.nanoTime() - startNanos) / 1_000_000;
      if (allEnded()) {
        abandon("process " + process.pid() + " has ended");
        return;
      }
      fail(e.getMessage());
    }
  }

  /**
   * Loads the next unit of {@code p}'s host pages; false once none is left. A process of the
   * tree that has ended needs nothing more (its memory went with it), so it neither stops the
   * pusher nor fails the others.
   */
  private static boolean pushNext(SimProcess p, LazyPages pages) {
    if (p.state() == SimProcess.State.EXITED) {
      return false;
    }
    try {
      return pages.pushNext();
    } catch (RuntimeException e) {
      if (p.state() == SimProcess.State.EXITED) {
        return false; // it ended while its unit was loaded
      }
      throw e;
    }
  }

  private void finish() {
    process.memory().setPageFaults(null);
    for (Member m : members) {
      m.process().memory().setPageFaults(null);
      m.host().source().close();
    }
    host.source().close();
    devices.forEach(LazyDeviceMemory::finish);
    millis = (System.nanoTime() - startNanos) / 1_000_000;
    done = true;
    onEnd.accept(progress());
  }

  private void fail(String reason) {
    synchronized (this) {
      if (failure != null || done) {
        return;
      }
      failure = reason;
    }
    millis = (System.nanoTime() - startNanos) / 1_000_000;
    host.abandon(reason);
    members.forEach(m -> m.host().abandon(reason));
    killTree(reason);
    release();
    onEnd.accept(progress());
  }

  /**
   * Kills the tree as {@code accr kill} of its root does, so that its bookkeeping is complete
   * whatever each process was doing: one that already crashed on a page it could not have is
   * reaped with the rest, and the root's exit completes, with the reason.
   */
  private void killTree(String reason) {
    try {
      node.kill(process.pid(), reason);
    } catch (AccrException gone) {
      // The root was already reaped: what is left of the tree is ended one by one.
      members.reversed().forEach(m -> m.process().killBecause(reason));
      process.killBecause(reason);
    }
  }

  /** Stops loading: the process is gone (or never ran); releases the source. */
  void abandon(String why) {
    host.abandon(why);
    members.forEach(m -> m.host().abandon(why));
    release();
  }

  private void release() {
    for (Member m : members) {
      m.host().source().close();
    }
    host.source().close();
    for (LazyDeviceMemory d : devices) {
      try {
        d.finish();
      } catch (RuntimeException ignored) {
        // the process is gone; what is left is freed with it
      }
    }
  }

  /** The figures so far. */
  public Progress progress() {
    List<DeviceProgress> d = new ArrayList<>();
    for (LazyDeviceMemory m : devices) {
      d.add(new DeviceProgress(m.name(), m.units(), m.unitBytes(), m.unitsFaulted(),
          m.unitsPushed()));
    }
    long ms = done || failure != null || host.loadFailure() != null ? millis : (System.nanoTime() - startNanos) / 1_000_000;
    String failed = failure != null ? failure : host.loadFailure();
    long total = host.pagesTotal();
    long faulted = host.pagesFaulted();
    long pushed = host.pagesPushed();
    for (Member m : members) {
      total += m.host().pagesTotal();
      faulted += m.host().pagesFaulted();
      pushed += m.host().pagesPushed();
      failed = failed != null ? failed : m.host().loadFailure();
    }
    return new Progress(total, faulted, pushed, d,
        List.copyOf(eager), done, failed == null ? "" : failed, ms);
  }

  /** Waits until loading ends; for tests and tools. Returns the final figures. */
  public Progress await(long timeoutMillis) throws InterruptedException {
    Thread t;
    synchronized (this) {
      t = pusher;
    }
    if (t == null) {
      throw AccrException.failed("lazy restore of process %d was not started", process.pid());
    }
    t.join(timeoutMillis);
    return progress();
  }
}

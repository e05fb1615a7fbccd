package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import java.io.IOException;
import java.util.List;

/** How a restore becomes lazy: the checks it makes first and the source it reads. */
final class LazyRestores {
  private LazyRestores() {}

  /**
   * For a lazy restore, checks the set's pages (unless told not to), and makes the process's
   * host pages and the lazily restoring plugins' device memory load on first touch; returns
   * null for an eager restore.
   */
  static LazyRestore attach(RestorePlan plan, SimProcess p, Node node, Cancellation cancellation,
      RemoteMemory remote) throws IOException {
    if (remote != null) {
      // Post-copy: nothing to check first; the source node serves every page.
      return attach(p, node, remote.hostPages(p.pid()), false, plan);
    }
    RestoreOptions.Lazy mode = plan.options().lazy();
    if (mode == null || mode == RestoreOptions.Lazy.OFF) {
      return null;
    }
    boolean checkFirst = checkLocalSet(plan, node, cancellation, mode);
    return attach(p, node, new ImagePageSource(plan.set(), p.pid()), checkFirst, plan);
  }

  /**
   * Refuses an incremental set and, unless told not to, reads the whole set once (a damaged
   * chunk is exit 3, before anything runs); returns whether it did.
   */
  private static boolean checkLocalSet(RestorePlan plan, Node node, Cancellation cancellation,
      RestoreOptions.Lazy mode) throws IOException {
    if (plan.chain().links().size() > 1) {
      throw AccrException.usage("restore --lazy: %s is an incremental set (%d links); lazy"
          + " restore reads one full set: make one with accr compact", plan.set().dir(),
          plan.chain().links().size());
    }
    boolean checkFirst = mode == RestoreOptions.Lazy.CHECKED;
    if (checkFirst) {
      // The whole set is read once, kept nowhere: a damaged chunk is exit 3, nothing runs.
      ProgressListener progress = cancellation.checking(plan.progress());
      new PageLoader(plan.set(), plan.options().threads(), progress, node.buffers(),
          cancellation::requested).load(PageLoader.VERIFY_ONLY);
    }
    return checkFirst;
  }

  /**
   * {@link #attach(RestorePlan, SimProcess, Node, Cancellation, RemoteMemory)} for a tree (its
   * live processes, the root first): one lazy restore for all, each process loading its private
   * pages from its own source on first touch; the pages of shared mappings (stored once, by
   * their owner) are loaded now, before anything runs, as CRIU restores shared memory eagerly.
   * A lone process is attached as before.
   */
  static LazyRestore attachTree(RestorePlan plan, List<SimProcess> live, Node node,
      Cancellation cancellation, RemoteMemory remote) throws IOException {
    if (live.size() <= 1) {
      return attach(plan, live.getFirst(), node, cancellation, remote);
    }
    boolean checkFirst = false;
    if (remote == null) {
      RestoreOptions.Lazy mode = plan.options().lazy();
      if (mode == null || mode == RestoreOptions.Lazy.OFF) {
        return null;
      }
      checkFirst = checkLocalSet(plan, node, cancellation, mode);
    }
    LazyRestore restore = null;
    try {
      for (SimProcess p : live) {
        PageSource all = remote != null ? remote.hostPages(p.pid())
            : new ImagePageSource(plan.set(), p.pid());
        SharedFirstPages split = new SharedFirstPages(all, p.memory());
        if (restore == null) {
          restore = attach(p, node, split.privatePages(), checkFirst, plan);
        } else {
          restore.addProcess(p, split.privatePages());
        }
        split.loadShared();
      }
      return restore;
    } catch (IOException | RuntimeException e) {
      if (restore != null) {
        restore.abandon("the restore failed"); // releases every source attached so far
      }
      throw e;
    }
  }

  /** Makes the process load its pages from {@code source}; the plugins learn of it. */
  static LazyRestore attach(SimProcess p, Node node, PageSource source, boolean checkFirst,
      RestorePlan plan) {
    LazyRestore lazy = new LazyRestore(p, node, source, checkFirst);
    plan.session().restoreLazily(lazy);
    return lazy;
  }

  /** Records the plugins whose device memory was restored eagerly all the same. */
  static void noteEagerPlugins(LazyRestore lazy, RestorePlan plan) {
    if (lazy == null) {
      return;
    }
    for (FdEntry fd : plan.set().processes().get(plan.pid()).core().getFdsList()) {
      FileEntry f = plan.set().files().get(fd.getFileId());
      if (f != null && f.hasExt() && !plan.session().restoresLazily(f.getExt().getPlugin())) {
        lazy.eager(f.getExt().getPlugin());
      }
    }
  }

  /**
   * Refuses to dump a process whose pages are still loading lazily: its page table does not
   * hold them all yet. Once {@code accr ps} says all are in (a short while), it can be dumped.
   */
  static void refuseWhileLoading(SimProcess p, String what) {
    if (p.memory().pageFaults() != null) {
      throw AccrException.failed("%s: process %d is still loading its pages lazily; retry once"
          + " `accr ps` shows them all in", what, p.pid());
    }
  }
}

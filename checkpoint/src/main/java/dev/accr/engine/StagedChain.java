package dev.accr.engine;

import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceStage;
import dev.accr.image.CheckpointId;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.Node;
import dev.accr.kernel.StagedPages;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.SetImages;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The host memory of the oldest links of a chain, loaded ahead of its restore: the target of a
 * pre-copy migration stages each round as it arrives, while the process still runs on the
 * source, so that the restore after the stop reads only the last delta and adopts the rest
 * ({@link Restorer#withStage}). Each link is read and verified as a restore reads it; a page a
 * later link stores again is overwritten, a page it declares replaced (a zero run) dropped, so
 * that the stage holds, for every page, what the newest staged link gives it. The frames count
 * in the node's memory until adopted or closed. From a set whose processes map shared memory
 * on, no host page is staged (such a restore reads every link). Each plugin that can stages its device memory
 * too ({@link AccrPlugin#stageDeviceMemory}), in a {@link DeviceStage} of its own that its
 * restore finds again.
 */
public final class StagedChain implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(StagedChain.class.getName());

  private final Node node;
  private final PluginHost plugins;
  private final Map<String, Devices> devices = new HashMap<>();
  private final int threads;
  /** The staged links, oldest first. */
  private final List<CheckpointId> ids = new ArrayList<>();
  private final Map<Integer, StagedPages> pages = new HashMap<>();
  private volatile boolean closed;
  /**
   * Whether host pages of a staged link are missing: a set whose processes map shared memory
   * is not staged (its restore reads every link), or the restore let the pages go unused.
   */
  private boolean hostPagesDropped;
  private long bytesRead;

  /**
   * A stage of the chain on {@code node}, loading each link's host memory with {@code threads}
   * readers and its device memory through {@code plugins}.
   */
  public StagedChain(Node node, PluginHost plugins, int threads) {
    this.node = node;
    this.plugins = plugins;
    this.threads = Math.max(1, threads);
  }

  /**
   * Loads the memory of the set in {@code dir}, which must follow the last link staged (or,
   * the first, have no parent). A set that does not, or that fails to load, empties the stage
   * (a restore then reads every link from its images) and the failure is thrown.
   */
  public synchronized void stage(Path dir) throws IOException {
    if (closed) {
      throw new CancellationException("the stage was closed");
    }
    boolean ok = false;
    try {
      ImageSet set = ImageSet.read(dir);
      boolean follows = ids.isEmpty() ? !set.hasParent()
          : set.hasParent() && set.parentId().equals(ids.getLast());
      if (!follows) {
        throw new IOException("staging " + dir + ": it does not follow the sets staged");
      }
      if (hostPagesDropped || mapsShared(set)) {
        // Such a restore reads every link: holding the pages would only take the room it needs.
        releaseHostPages();
        ids.add(set.id());
        ok = true;
        stageDevices(set);
        return;
      }
      for (var e : set.processes().entrySet()) {
        StagedPages mine = pagesOf(e.getKey());
        for (PageRun r : e.getValue().zeroRuns()) {
          mine.drop(r.getVaddr(), Integer.toUnsignedLong(r.getNrPages()));
        }
      }
      bytesRead += new PageLoader(set, threads, ProgressListener.NONE, node.buffers(),
          () -> closed).load(new PageLoader.PageSink() {
            @Override
            public void write(int pid, long vaddr, MemorySegment source, long offset, int n) {
              if (closed) {
                throw new CancellationException("the stage was closed");
              }
              pagesOf(pid).write(vaddr, source, offset, n);
            }
          });
      ids.add(set.id());
      ok = true;
      stageDevices(set);
    } finally {
      if (!ok) {
        empty();
      }
    }
  }

  private static boolean mapsShared(ImageSet set) {
    return set.processes().values().stream().anyMatch(p -> p.mm().getVmasList().stream()
        .anyMatch(v -> v.getShmemId() != 0));
  }

  /**
   * Frees the staged host pages and stages none from here on (the device memory stays): a
   * restore that does not adopt them gets their room back before it checks for room.
   */
  synchronized void releaseHostPages() {
    hostPagesDropped = true;
    synchronized (pages) {
      pages.values().forEach(StagedPages::close);
      pages.clear();
    }
  }

  /**
   * Hands the set to each plugin it names that stages device memory. A plugin that fails
   * loses its stage (its restore reads its images); the host memory stays staged.
   */
  private void stageDevices(ImageSet set) {
    for (String name : set.inventory().getPluginsList()) {
      AccrPlugin plugin = plugins.plugin(name);
      if (plugin == null) {
        continue;
      }
      Devices stage;
      synchronized (devices) {
        stage = devices.computeIfAbsent(name, k -> new Devices());
      }
      try {
        var images = SetImages.reader(name, set.dir(), set.id());
        for (var e : set.processes().entrySet()) {
          if (!e.getValue().pstree().getZombie()) {
            plugin.stageDeviceMemory(images, e.getKey(), stage);
          }
        }
      } catch (RuntimeException | Error e) {
        // An Error too (out of memory while staging): the restore reads the images instead.
        LOG.log(Level.INFO, "staging " + set.dir() + ": plugin " + name + " failed: " + e);
        stage.close();
      }
    }
  }

  /** The device memory plugin {@code plugin} staged, or null. */
  DeviceStage deviceStage(String plugin) {
    synchronized (devices) {
      return closed ? null : devices.get(plugin);
    }
  }

  /** One plugin's stage: what it keeps, closed with the stage. */
  private static final class Devices implements DeviceStage, AutoCloseable {
    private AutoCloseable state;

    @Override
    public synchronized AutoCloseable state() {
      return state;
    }

    @Override
    public synchronized void keep(AutoCloseable s) {
      state = s;
    }

    @Override
    public synchronized void close() {
      AutoCloseable s = state;
      state = null;
      if (s != null) {
        try {
          s.close();
        } catch (Exception e) {
          LOG.log(Level.INFO, "closing a device stage failed", e);
        }
      }
    }
  }

  private StagedPages pagesOf(int pid) {
    synchronized (pages) {
      return pages.computeIfAbsent(pid, k -> node.stagePages());
    }
  }

  /** The links staged, oldest first. */
  public synchronized List<CheckpointId> ids() {
    return List.copyOf(ids);
  }

  /**
   * Of the pages staged for process {@code pid}, those inside {@code allowed} (start, end
   * pairs in address order): what {@link #adopt} maps.
   */
  long pagesWithin(int pid, long[] allowed) {
    StagedPages mine;
    synchronized (pages) {
      mine = pages.get(pid);
    }
    if (mine == null) {
      return 0;
    }
    long n = 0;
    for (int k = 0; k + 1 < allowed.length; k += 2) {
      n += mine.pagesWithin(allowed[k], allowed[k + 1]);
    }
    return n;
  }

  /** Pages staged, all processes together. */
  public long pages() {
    synchronized (pages) {
      return pages.values().stream().mapToLong(StagedPages::pages).sum();
    }
  }

  /** Bytes of image files read to stage what is staged. */
  public synchronized long bytesRead() {
    return bytesRead;
  }

  /**
   * How many of the oldest links of {@code chain} this stage holds: all it staged, when they
   * are those links and the newest link is not among them; otherwise 0 (nothing to adopt).
   */
  synchronized int covers(ImageChain chain) {
    List<ImageSet> links = chain.links();
    int n = ids.size();
    if (closed || hostPagesDropped || n == 0 || n >= links.size()) {
      return 0;
    }
    for (int i = 0; i < n; i++) {
      if (!links.get(links.size() - 1 - i).id().equals(ids.get(i))) {
        return 0;
      }
    }
    return n;
  }

  /**
   * Maps the staged pages of process {@code pid} that lie in {@code allowed} (start, end
   * pairs) into {@code memory} without a copy; the rest of its stage is let go. Returns the
   * pages mapped.
   */
  long adopt(int pid, AddressSpace memory, long[] allowed) {
    StagedPages mine;
    synchronized (pages) {
      mine = pages.remove(pid);
    }
    return mine == null ? 0 : memory.adoptStaged(mine, allowed);
  }

  private void empty() {
    synchronized (pages) {
      pages.values().forEach(StagedPages::close);
      pages.clear();
    }
    synchronized (devices) {
      devices.values().forEach(Devices::close);
      devices.clear();
    }
    ids.clear();
    hostPagesDropped = false;
  }

  /** Stops a stage under way without waiting for it; {@link #close} frees the frames. */
  public void cancel() {
    closed = true;
  }

  /** Frees every frame not adopted; a stage under way stops. */
  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      empty();
    }
  }
}

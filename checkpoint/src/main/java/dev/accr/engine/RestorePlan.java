package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import dev.accr.api.DevicePair;
import dev.accr.api.MemoryView;
import dev.accr.api.Workload;
import dev.accr.image.ProgressListener;
import dev.accr.plugin.PluginHost;
import dev.accr.plugin.PluginSession;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.RegFileEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a restore will do, decided before anything is created: the verified image set, the
 * program to run, where the image's devices go. Holds the restore's plugin session (the
 * plugins keep their mapping in it) until {@link Restorer#recreate} finishes or the plan is
 * closed unused, which rolls the plugins back.
 */
public final class RestorePlan implements AutoCloseable {
  /** One process of the tree to restore: its images, its program, its pages in the chain. */
  record ProcessPlan(ImageSet.ProcessImages images, Workload workload, ChainPages pages) {
    int pid() {
      return images.pstree().getPid();
    }

    boolean zombie() {
      return images.pstree().getZombie();
    }
  }

  private final ImageChain chain;
  private final List<ProcessPlan> processes;
  private final ImageSet set;
  private final List<DevicePair> devices;
  private final PluginSession session;
  private final RestoreOptions options;
  private final ProgressListener progress;
  private final long startNanos;
  private StagedChain stage;
  private int stagedLinks;

  RestorePlan(ImageChain chain, List<ProcessPlan> processes, List<DevicePair> devices,
      PluginSession session, RestoreOptions options, ProgressListener progress,
      long startNanos) {
    this.chain = chain;
    this.processes = List.copyOf(processes);
    this.set = chain.last();
    this.devices = List.copyOf(devices);
    this.session = session;
    this.options = options;
    this.progress = progress;
    this.startNanos = startNanos;
  }

  /** This plan, adopting {@code links} oldest links of its chain from {@code staged}. */
  RestorePlan staging(StagedChain staged, int links) {
    this.stage = staged;
    this.stagedLinks = staged == null ? 0 : links;
    return this;
  }

  /** The stage whose pages the restore adopts, or null. */
  StagedChain stage() {
    return stage;
  }

  /** How many of the chain's oldest links come from the stage rather than their images. */
  public int stagedLinks() {
    return stagedLinks;
  }

  /** Where each device of the image goes. */
  public List<DevicePair> devices() {
    return devices;
  }

  public ImageSet set() {
    return set;
  }

  /** The pid the root process will have: the one it had when dumped. */
  public int pid() {
    return processes.getFirst().pid();
  }

  /** The pids of the tree, the root first and every parent before its children. */
  public List<Integer> pids() {
    return processes.stream().map(ProcessPlan::pid).toList();
  }

  /** The set and its parents, newest first. */
  public ImageChain chain() {
    return chain;
  }

  /** The processes to restore, the root first and every parent before its children. */
  List<ProcessPlan> processes() {
    return processes;
  }

  PluginSession session() {
    return session;
  }

  RestoreOptions options() {
    return options;
  }

  ProgressListener progress() {
    return progress;
  }

  long startNanos() {
    return startNanos;
  }

  /** Ends the plugin session: {@code fini(ok=false)} unless the restore succeeded. */
  @Override
  public void close() {
    session.close();
  }

  /**
   * The images of the set's processes, the root first and every parent before its children,
   * once every plugin they need is installed.
   */
  static List<ImageSet.ProcessImages> treeImages(ImageSet set, PluginHost plugins) {
    plugins.require(set.inventory().getPluginsList(), set.dir().toString());
    return PstreeChecks.topDown(set.processes(), set.inventory().getRootPid());
  }

  /** The pages to restore must fit in {@code freeBytes}, what the node's memory has left. */
  static void checkMemory(ImageSet set, String node, long freeBytes) {
    long pages = set.processes().values().stream().flatMap(p -> p.chunks().stream())
        .flatMap(c -> c.getRunsList().stream())
        .mapToLong(r -> Integer.toUnsignedLong(r.getNrPages())).sum();
    checkMemory(set, pages, node, freeBytes);
  }

  /** {@code pages} to restore from {@code set} (and its parents) must fit in {@code freeBytes}. */
  static void checkMemory(ImageSet set, long pages, String node, long freeBytes) {
    if (pages * MemoryView.PAGE_SIZE > freeBytes) {
      throw AccrException.incompatible("restore: %s needs %d MiB of memory; node %s has %d MiB"
          + " free", set.dir(), (pages * MemoryView.PAGE_SIZE) >> 20, node, freeBytes >> 20);
    }
  }

  /** As in CRIU, files are not in the image: each must still be there and long enough. */
  /** The process's working directory: empty (the node's own) or an absolute path. */
  static void checkWorkingDirectory(ImageSet set, CoreEntry core) {
    String cwd = core.getCwd();
    if (!cwd.isEmpty() && (!cwd.startsWith("/") || cwd.indexOf('\0') >= 0)) {
      throw new CorruptImageException(set.dir().resolve("core-" + core.getPid() + ".img")
          .toString(), "working directory " + Untrusted.quote(cwd) + " is not an absolute path");
    }
  }

  static void checkFiles(ImageSet set) throws IOException {
    for (var f : set.files().values()) {
      if (f.hasExt() || f.hasPipe() || f.hasSocket() || f.hasMemfd()) {
        continue; // reopened by its plugin, or recreated with what the tree shares
      }
      RegFileEntry reg = f.getReg();
      if (reg.getPath().isEmpty() || reg.getPath().indexOf('\0') >= 0) {
        throw new CorruptImageException(set.dir().resolve("files.img").toString(), "file id "
            + f.getId() + " has an empty path or a NUL in it");
      }
      if (!reg.getPath().startsWith("/")) {
        // A dump records absolute paths; a relative one would resolve against wherever the
        // node happens to run, past any confinement of the caller's paths.
        throw new CorruptImageException(set.dir().resolve("files.img").toString(), "file id "
            + f.getId() + ": path " + Untrusted.quote(reg.getPath()) + " is not absolute");
      }
      Path path = Path.of(reg.getPath());
      if (!Files.isRegularFile(path)) {
        throw AccrException.failed("restore: file %s (id %d) is missing", path, f.getId());
      }
      long size = Files.size(path);
      if (size < reg.getSize()) {
        throw AccrException.failed("restore: file %s: size actual=%d expected>=%d", path, size,
            reg.getSize());
      }
    }
  }
}

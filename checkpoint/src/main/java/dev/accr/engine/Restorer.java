package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceMapping;
import dev.accr.api.DevicePair;
import dev.accr.api.MemoryView;
import dev.accr.api.Workload;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kernel.SimThread;
import dev.accr.kernel.Vma;
import dev.accr.kernel.Workloads;
import dev.accr.plugin.Operation;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.FdEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.RegFileEntry;
import dev.accr.proto.ThreadCoreEntry;
import dev.accr.proto.VmaEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Restores an image set on a node: reads and verifies every image, recreates the process
 * detached from the node (so a failure leaves nothing behind), and only then puts it into the
 * process table under its original pid and lets it run.
 */
public final class Restorer {
  /** What a restore did, and where the image's devices went. */
  public record Result(SimProcess process, long pagesRestored, long bytesRead, long timeUs,
      List<DevicePair> devices) {}

  private final Node node;
  private final PluginHost plugins;

  public Restorer(Node node, PluginHost plugins) {
    this.node = node;
    this.plugins = plugins;
  }

  /**
   * Restores the set in {@code dir}. With {@code start == false} the process is put into the
   * table but not started (callers step it themselves).
   */
  public Result restore(Path dir, int threads, ProgressListener progress, boolean start)
      throws IOException {
    return restore(dir, RestoreOptions.defaults().withThreads(threads), progress, start);
  }

  /** Restores with options for plugins ({@code plugin.option -> value}). */
  public Result restore(Path dir, int threads, Map<String, String> pluginOptions,
      ProgressListener progress, boolean start) throws IOException {
    return restore(dir, RestoreOptions.defaults().withThreads(threads)
        .withPluginOptions(pluginOptions), progress, start);
  }

  /** Restores with {@code options}; devices are mapped before anything is created. */
  public Result restore(Path dir, RestoreOptions options, ProgressListener progress,
      boolean start) throws IOException {
    int threads = options.threads();
    long t0 = System.nanoTime();
    ImageSet set = ImageSet.read(dir);
    plugins.require(set.inventory().getPluginsList(), dir.toString());
    if (set.processes().size() != 1) {
      throw AccrException.failed("restore: %d processes in %s; only single-process sets are"
          + " supported", set.processes().size(), dir);
    }
    ImageSet.ProcessImages images = set.processes().get(set.inventory().getRootPid());
    int pid = images.core().getPid();
    if (node.hasPid(pid)) {
      throw AccrException.failed("restore: pid %d is already taken on node %s", pid, node.name());
    }
    Workload workload;
    try {
      workload = Workloads.get(images.core().getExe());
    } catch (AccrException e) {
      throw AccrException.incompatible("restore: program '%s' is not installed on node %s",
          images.core().getExe(), node.name());
    }
    checkFiles(set);
    checkMemory(set);

    boolean ok = false;
    boolean adopted = false;
    String cwd = images.core().getCwd().isEmpty() ? System.getProperty("user.dir")
        : images.core().getCwd();
    SimProcess p = node.newProcess(pid, workload, images.core().getArgvList(), Path.of(cwd),
        images.core().getStepDelayMs());
    Operation op = Operation.restore(node, dir, set.id(), threads, options.pluginOptions(),
        options.mapping(), progress::progress);
    try {
      plugins.init(op);
      List<DevicePair> devices = plugins.mapDevices(op, options.mapping(), node.topology());
      plugins.postForking(op, p);
      for (VmaEntry v : images.mm().getVmasList()) {
        Vma.Kind kind = ProcessCollector.kindOf(v.getKind());
        if (kind == Vma.Kind.DEVICE) {
          DeviceMapping moved = plugins.updateVmaMap(op, p, new DeviceMapping(v.getStart(),
              v.getLength(), v.getProt(), v.getPath(), v.getOffset()));
          p.memory().mapDevice(moved, v.getName());
          continue;
        }
        p.memory().map(v.getStart(), v.getLength(), v.getProt(), kind, v.getName(), v.getPath(),
            v.getOffset());
      }
      long bytesRead = new PageLoader(set, threads, progress)
          .load((owner, vaddr, source, offset, pages) ->
              p.memory().writePages(vaddr, source, offset, pages));
      for (ThreadCoreEntry t : images.core().getThreadsList()) {
        SimThread thread = p.addThread(t.getTid());
        thread.setPc(t.getPc());
        for (int i = 0; i < SimThread.GPR_COUNT; i++) {
          thread.setGpr(i, t.getGpr(i));
        }
      }
      for (FdEntry fd : images.core().getFdsList()) {
        FileEntry f = set.files().get(fd.getFileId());
        if (f.hasExt()) {
          p.files().installDevice(fd.getFd(), plugins.restoreExtFile(op, f.getExt().getPlugin(),
              p, fd.getFd(), f.getExt().getPath()));
          continue;
        }
        RegFileEntry reg = f.getReg();
        p.files().install(fd.getFd(), Path.of(reg.getPath()), reg.getFlags(), reg.getPos());
      }
      node.adopt(p, false);
      adopted = true;
      plugins.resumeDevicesLate(op, p);
      if (start) {
        p.start();
      }
      ok = true;
      return new Result(p, p.memory().residentPages(), bytesRead, (System.nanoTime() - t0) / 1000,
          devices);
    } finally {
      try {
        plugins.fini(op, ok);
      } finally {
        if (!ok) {
          if (adopted) {
            node.kill(p.pid());
          }
          p.close();
        }
      }
    }
  }

  /** The pages to restore must fit in what the node's memory has left. */
  private void checkMemory(ImageSet set) {
    long pages = set.processes().values().stream().flatMap(p -> p.chunks().stream())
        .flatMap(c -> c.getRunsList().stream()).mapToLong(r -> Integer.toUnsignedLong(r.getNrPages()))
        .sum();
    long total = node.topology().getCpusList().stream().mapToLong(c -> c.getMemoryBytes()).sum();
    long free = total - node.memory().residentPages() * MemoryView.PAGE_SIZE;
    if (pages * MemoryView.PAGE_SIZE > free) {
      throw AccrException.incompatible("restore: %s needs %d MiB of memory; node %s has %d MiB"
          + " free", set.dir(), (pages * MemoryView.PAGE_SIZE) >> 20, node.name(), free >> 20);
    }
  }

  /** As in CRIU, files are not in the image: each must still be there and long enough. */
  private static void checkFiles(ImageSet set) throws IOException {
    for (var f : set.files().values()) {
      if (f.hasExt()) {
        continue; // reopened by its plugin
      }
      RegFileEntry reg = f.getReg();
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

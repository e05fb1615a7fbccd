package dev.accr.kfd.plugin;

import dev.accr.api.PluginImages;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * The GPUs of a checkpoint as a mapping needs them: their properties, how much VRAM (and
 * CPU-visible VRAM) the process holds on each, which pairs reached each other and which were
 * joined by XGMI (hives), and the ISAs the program has code for.
 */
final class ImageGpus {
  /** One GPU of the image: the id the process knows it by, and what it holds there. */
  record ImageGpu(KfdDeviceEntry entry, long vramInUse, long visibleInUse) {
    int id() {
      return entry.getGpuId();
    }

    Device device() {
      return entry.getDevice();
    }
  }

  private final List<ImageGpu> gpus;
  private final SortedSet<Integer> isas;
  private final int[] hive;

  ImageGpus(List<ImageGpu> gpus, SortedSet<Integer> isas) {
    this.gpus = List.copyOf(gpus);
    this.isas = isas.isEmpty() ? ownIsas(gpus) : new TreeSet<>(isas);
    this.hive = GpuChecks.components(this.gpus.size(), (i, j) -> xgmi(i, j) || xgmi(j, i));
  }

  /**
   * The GPUs of every process in the set (a GPU id names one GPU across processes), mapped at
   * once: a GPU's peers are those any process reached from it, and a GPU on which a process
   * imported another's buffer is a peer of the buffer's GPU (over XGMI if it was).
   */
  static ImageGpus read(PluginImages images) {
    return read(images, pid -> KfdEntries.reading(images, pid));
  }

  /** {@link #read(PluginImages)}, each process's entries from {@code entries}. */
  static ImageGpus read(PluginImages images, LongFunction<KfdEntries> entries) {
    Map<Integer, KfdDeviceEntry> devices = new TreeMap<>();
    Map<Integer, long[]> use = new HashMap<>();
    SortedSet<Integer> isas = new TreeSet<>();
    SharedGpuLinks links = new SharedGpuLinks();
    for (long pid : images.entryIds("devices")) {
      KfdEntries process = entries.apply(pid);
      for (KfdDeviceEntry d : process.devices()) {
        devices.putIfAbsent(d.getGpuId(), d);
        links.device(d);
      }
      for (KfdBoEntry bo : process.bos()) {
        links.buffer((int) pid, bo);
        if (FoldedVram.holdsVram(bo)) {
          long[] u = use.computeIfAbsent(bo.getGpuId(), k -> new long[2]);
          u[0] += bo.getSize();
          u[1] += (bo.getFlags() & 1) != 0 ? bo.getSize() : 0;
        }
      }
      for (KfdSvmRangeEntry r : process.svmRanges()) {
        for (SvmResidencyRun run : r.getResidencyList()) {
          use.computeIfAbsent(run.getLocation(), k -> new long[2])[0] +=
              (long) run.getPages() * 4096;
        }
      }
      isas.addAll(process.process().getCodeObjectIsasList());
    }
    List<ImageGpu> gpus = new ArrayList<>();
    for (KfdDeviceEntry d : links.withPeers(devices).values()) {
      long[] u = use.getOrDefault(d.getGpuId(), new long[2]);
      gpus.add(new ImageGpu(d, u[0], u[1]));
    }
    return new ImageGpus(gpus, isas);
  }

  List<ImageGpu> gpus() {
    return gpus;
  }

  int size() {
    return gpus.size();
  }

  ImageGpu get(int i) {
    return gpus.get(i);
  }

  /** The ISAs the program has code objects for (images without them: the GPUs' own ISAs). */
  SortedSet<Integer> isas() {
    return isas;
  }

  /** Whether GPU {@code i} reached GPU {@code j} over a direct link. */
  boolean peers(int i, int j) {
    return gpus.get(i).entry().getPeersList().contains(gpus.get(j).id());
  }

  /** Whether GPUs {@code i} and {@code j} were joined directly by XGMI. */
  boolean xgmi(int i, int j) {
    return gpus.get(i).entry().getXgmiPeersList().contains(gpus.get(j).id());
  }

  /** Whether GPUs {@code i} and {@code j} were in one hive (XGMI, maybe through others). */
  boolean sameHive(int i, int j) {
    return hive[i] == hive[j];
  }

  /** GPUs of {@code i}'s hive, {@code i} included. */
  int hiveSize(int i) {
    int n = 0;
    for (int h : hive) {
      n += h == hive[i] ? 1 : 0;
    }
    return n;
  }



  private static SortedSet<Integer> ownIsas(List<ImageGpu> gpus) {
    SortedSet<Integer> own = new TreeSet<>();
    gpus.forEach(g -> own.add(g.device().getGfxTargetVersion()));
    return own;
  }
}

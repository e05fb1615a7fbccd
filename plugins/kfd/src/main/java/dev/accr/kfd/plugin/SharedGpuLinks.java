package dev.accr.kfd.plugin;

import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.kfd.proto.KfdDeviceEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The links between the GPUs of a tree that a mapping must keep: every process's peers of a
 * GPU (a process limited to some GPUs lists only their links), and the GPU on which a buffer
 * was imported with the GPU holding it (the importer's kernels reach it over that link).
 */
final class SharedGpuLinks {
  private record Key(int pid, int handle) {}

  private final Map<Integer, Set<Integer>> peers = new TreeMap<>();
  private final Map<Integer, Set<Integer>> xgmi = new TreeMap<>();
  private final Map<Key, Integer> exportedOn = new LinkedHashMap<>();
  private final List<KfdBoEntry> imports = new ArrayList<>();

  void device(KfdDeviceEntry d) {
    peers(peers, d.getGpuId()).addAll(d.getPeersList());
    peers(xgmi, d.getGpuId()).addAll(d.getXgmiPeersList());
  }

  void buffer(int pid, KfdBoEntry bo) {
    if (bo.getImported()) {
      imports.add(bo);
    } else if (bo.getDmabufId() != 0) {
      exportedOn.put(new Key(pid, bo.getHandle()), bo.getGpuId());
    }
  }

  /** {@code devices} with their peers completed (by id, in id order). */
  Map<Integer, KfdDeviceEntry> withPeers(Map<Integer, KfdDeviceEntry> devices) {
    for (KfdBoEntry bo : imports) {
      Integer home = exportedOn.get(new Key(bo.getExporterPid(), bo.getExporterHandle()));
      if (home == null || home == bo.getGpuId() || !devices.containsKey(home)) {
        continue; // the same GPU, or an exporter the dump's own check rejects
      }
      link(peers, home, bo.getGpuId());
      if (bo.getOverXgmi()) {
        link(xgmi, home, bo.getGpuId());
      }
    }
    Map<Integer, KfdDeviceEntry> out = new TreeMap<>();
    for (var e : devices.entrySet()) {
      Set<Integer> p = peers(peers, e.getKey());
      Set<Integer> x = peers(xgmi, e.getKey());
      out.put(e.getKey(), e.getValue().toBuilder().clearPeers().addAllPeers(p)
          .clearXgmiPeers().addAllXgmiPeers(x).build());
    }
    return out;
  }

  private static void link(Map<Integer, Set<Integer>> m, int a, int b) {
    peers(m, a).add(b);
    peers(m, b).add(a);
  }

  private static Set<Integer> peers(Map<Integer, Set<Integer>> m, int gpu) {
    return m.computeIfAbsent(gpu, k -> new TreeSet<>());
  }
}

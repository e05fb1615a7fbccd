package dev.accr.kfd.plugin;

import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.LinkType;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The KFD GPUs of a target topology as a mapping needs them: in topology order, with the type
 * of the direct link between each pair, their hive (GPUs joined by XGMI, maybe indirectly),
 * and which GPUs are interchangeable twins (so a search tries only one of each).
 */
final class TargetGpus {
  private final List<Device> gpus = new ArrayList<>();
  private final LinkType[][] links;
  private final int[] hive;
  private final int[] twinClass;

  TargetGpus(Topology topology) {
    for (Device d : topology.getDevicesList()) {
      if (d.getType().equals("kfd")) {
        gpus.add(d);
      }
    }
    Map<Integer, Integer> byNode = new HashMap<>();
    for (int i = 0; i < gpus.size(); i++) {
      byNode.put(gpus.get(i).getNode(), i);
    }
    links = new LinkType[gpus.size()][gpus.size()];
    for (Link l : topology.getLinksList()) {
      Integer a = byNode.get(l.getFrom());
      Integer b = byNode.get(l.getTo());
      if (a != null && b != null && (links[a][b] == null || l.getType() == LinkType.XGMI)) {
        links[a][b] = l.getType();
      }
    }
    hive = GpuChecks.components(gpus.size(), (a, b) -> xgmi(a, b) || xgmi(b, a));
    twinClass = twins();
  }

  List<Device> gpus() {
    return gpus;
  }

  int size() {
    return gpus.size();
  }

  Device get(int t) {
    return gpus.get(t);
  }

  /** Whether a kernel on {@code a} can reach {@code b}'s VRAM (a direct link either way). */
  boolean reaches(int a, int b) {
    return links[a][b] != null;
  }

  /** Whether {@code a} and {@code b} are joined directly by XGMI. */
  boolean xgmi(int a, int b) {
    return links[a][b] == LinkType.XGMI;
  }

  boolean sameHive(int a, int b) {
    return hive[a] == hive[b];
  }

  /** GPUs of the largest hive (1 if there are no XGMI links). */
  int largestHive() {
    int best = gpus.isEmpty() ? 0 : 1;
    for (int h : hive) {
      int n = 0;
      for (int other : hive) {
        n += other == h ? 1 : 0;
      }
      best = Math.max(best, n);
    }
    return best;
  }

  /** Equal for GPUs that can swap places without any property or link telling them apart. */
  int twinClass(int t) {
    return twinClass[t];
  }



  private int[] twins() {
    int[] cls = new int[gpus.size()];
    for (int a = 0; a < cls.length; a++) {
      cls[a] = a;
      for (int b = 0; b < a; b++) {
        if (cls[b] == b && areTwins(a, b)) {
          cls[a] = b;
          break;
        }
      }
    }
    return cls;
  }

  private boolean areTwins(int a, int b) {
    if (!GpuChecks.sameExceptIdentity(gpus.get(a), gpus.get(b)) || hive[a] != hive[b]
        || links[a][b] != links[b][a]) {
      return false;
    }
    for (int y = 0; y < gpus.size(); y++) {
      if (y != a && y != b && (links[a][y] != links[b][y] || links[y][a] != links[y][b])) {
        return false;
      }
    }
    return true;
  }
}

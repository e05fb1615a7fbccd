package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.kfd.driver.Gpu;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Chooses a distinct GPU of this node for each GPU a checkpointed process used: one with the
 * same properties (only ids, topology node, render minor and NUMA node may differ), such that
 * GPUs that reached each other still do. The search backtracks and is deterministic (target
 * GPUs in topology order). When nothing fits, the error names the first source GPU that could
 * not be placed and why.
 */
final class GpuMapper {
  private final List<KfdDeviceEntry> source;
  private final List<Gpu> target;
  private final Map<Integer, String> reasons = new TreeMap<>();

  private GpuMapper(List<KfdDeviceEntry> source, List<Gpu> target) {
    this.source = source;
    this.target = target;
  }

  /** Process-visible GPU id -> GPU of this node. */
  static Map<Integer, Gpu> map(List<KfdDeviceEntry> source, List<Gpu> target, String node) {
    if (source.size() > target.size()) {
      throw AccrException.incompatible("kfd: the image needs %d GPUs; node %s has %d",
          source.size(), node, target.size());
    }
    GpuMapper m = new GpuMapper(source, target);
    Gpu[] chosen = new Gpu[source.size()];
    if (!m.place(0, chosen)) {
      var first = m.reasons.entrySet().iterator().next();
      throw AccrException.incompatible("kfd: no GPU of node %s fits gpu 0x%x of the image: %s",
          node, source.get(first.getKey()).getGpuId(), first.getValue());
    }
    Map<Integer, Gpu> out = new LinkedHashMap<>();
    for (int i = 0; i < chosen.length; i++) {
      out.put(source.get(i).getGpuId(), chosen[i]);
    }
    return out;
  }

  private boolean place(int i, Gpu[] chosen) {
    if (i == chosen.length) {
      return true;
    }
    List<String> why = new ArrayList<>();
    for (Gpu candidate : target) {
      if (isUsed(candidate, chosen, i)) {
        continue;
      }
      String mismatch = mismatch(source.get(i).getDevice(), candidate.device());
      if (mismatch == null) {
        mismatch = missingLink(i, candidate, chosen);
      }
      if (mismatch != null) {
        why.add(String.format("0x%x: %s", candidate.gpuId(), mismatch));
        continue;
      }
      chosen[i] = candidate;
      if (place(i + 1, chosen)) {
        return true;
      }
      chosen[i] = null;
    }
    reasons.putIfAbsent(i, why.isEmpty() ? "every GPU is taken by another" : String.join("; ", why));
    return false;
  }

  private static boolean isUsed(Gpu g, Gpu[] chosen, int upTo) {
    for (int j = 0; j < upTo; j++) {
      if (chosen[j] == g) {
        return true;
      }
    }
    return false;
  }

  /** GPUs that reached each other in the image must reach each other here. */
  private String missingLink(int i, Gpu candidate, Gpu[] chosen) {
    for (int j = 0; j < i; j++) {
      boolean wasPeer = source.get(i).getPeersList().contains(source.get(j).getGpuId());
      if (wasPeer && !candidate.canReach(chosen[j])) {
        return String.format("no link to 0x%x, which takes gpu 0x%x of the image",
            chosen[j].gpuId(), source.get(j).getGpuId());
      }
    }
    return null;
  }

  /** The first property that differs, as {@code name: image=X node=Y}, or null. */
  static String mismatch(Device a, Device b) {
    Device ca = comparable(a);
    Device cb = comparable(b);
    if (ca.equals(cb)) {
      return null;
    }
    for (var f : Device.getDescriptor().getFields()) {
      Object x = ca.getField(f);
      Object y = cb.getField(f);
      if (!x.equals(y)) {
        return f.getJsonName() + ": image=" + x + " node=" + y;
      }
    }
    return "properties differ";
  }

  private static Device comparable(Device d) {
    return d.toBuilder().clearGpuId().clearNode().clearDrmRenderMinor().clearNumaNode().build();
  }
}

package dev.accr.npu.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.npu.driver.NpuDriver;
import dev.accr.npu.proto.NpuDeviceEntry;
import dev.accr.proto.Device;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Chooses, for every npu an image's process used, a distinct npu of a target topology that can
 * take it: the same chip (its programs run on no other), firmware at least as new (relaxable:
 * {@code fw}), and as much memory (relaxable: {@code npu-memory}, down to what the process had
 * allocated, never below). The search backtracks and is deterministic (topology order).
 */
final class NpuMapper {
  static final String FW = "fw";
  static final String MEMORY = "npu-memory";

  /** One npu of the image: its properties and the device memory its process held there. */
  record ImageNpu(Device device, long allocatedBytes) {}

  private final List<ImageNpu> image;
  private final List<Device> targets;
  private final MappingPolicy policy;
  private final String targetName;

  private NpuMapper(List<ImageNpu> image, Topology target, MappingPolicy policy) {
    this.image = image;
    this.targets = target.getDevicesList().stream()
        .filter(d -> d.getType().equals(NpuDriver.TYPE)).toList();
    this.policy = policy;
    this.targetName = target.getName();
  }

  /** The npus of the image, once each, with the memory their contexts held in all. */
  static List<ImageNpu> imageNpus(List<NpuDeviceEntry> entries) {
    Map<Integer, ImageNpu> byId = new LinkedHashMap<>();
    for (NpuDeviceEntry e : entries) {
      byId.merge(e.getDevice().getNpuId(), new ImageNpu(e.getDevice(), e.getAllocatedBytes()),
          (a, b) -> new ImageNpu(a.device(), a.allocatedBytes() + b.allocatedBytes()));
    }
    return new ArrayList<>(byId.values());
  }

  /**
   * The pairs, in image order.
   *
   * @throws AccrException exit code 4 naming the first npu that fits nowhere and why
   */
  static List<DevicePair> map(List<ImageNpu> image, Topology target, MappingPolicy policy) {
    return new NpuMapper(image, target, policy).search();
  }

  private List<DevicePair> search() {
    Device[] chosen = new Device[image.size()];
    if (!place(0, chosen, new HashSet<>())) {
      throw explain();
    }
    List<DevicePair> pairs = new ArrayList<>();
    for (int i = 0; i < image.size(); i++) {
      Device from = image.get(i).device();
      pairs.add(new DevicePair(NpuDriver.TYPE, from.getNpuId(), from.getNode(),
          chosen[i].getNpuId(), chosen[i].getNode(), differences(from, chosen[i])));
    }
    return pairs;
  }

  private boolean place(int i, Device[] chosen, Set<Integer> taken) {
    if (i == image.size()) {
      return true;
    }
    for (Device t : targets) {
      if (!taken.contains(t.getNpuId()) && whyNot(image.get(i), t) == null) {
        taken.add(t.getNpuId());
        chosen[i] = t;
        if (place(i + 1, chosen, taken)) {
          return true;
        }
        taken.remove(t.getNpuId());
      }
    }
    return false;
  }

  /** Why {@code t} cannot take {@code n}, or null if it can. */
  private String whyNot(ImageNpu n, Device t) {
    Device d = n.device();
    var forced = policy.forcedTarget(d.getNpuId());
    if (forced.isPresent() && forced.getAsInt() != t.getNpuId()) {
      return "--device-map names " + forced.getAsInt();
    }
    if (!t.getNpuChip().equals(d.getNpuChip())) {
      return "chip " + t.getNpuChip() + " is not " + d.getNpuChip();
    }
    if (t.getNpuFwVersion() < d.getNpuFwVersion() && !policy.relaxes(FW)) {
      return "firmware " + t.getNpuFwVersion() + " is older than " + d.getNpuFwVersion()
          + " (--relax fw)";
    }
    if (t.getNpuMemoryBytes() < n.allocatedBytes()) {
      return "memory " + t.getNpuMemoryBytes() + " is less than the " + n.allocatedBytes()
          + " bytes in use";
    }
    if (t.getNpuMemoryBytes() < d.getNpuMemoryBytes() && !policy.relaxes(MEMORY)) {
      return "memory " + t.getNpuMemoryBytes() + " is less than " + d.getNpuMemoryBytes()
          + " (--relax npu-memory)";
    }
    return null;
  }

  private AccrException explain() {
    // The first npu that fits on no free target, on its own, is the one to name.
    for (ImageNpu n : image) {
      List<String> reasons = new ArrayList<>();
      boolean fits = false;
      for (Device t : targets) {
        String why = whyNot(n, t);
        fits |= why == null;
        reasons.add(t.getNpuId() + ": " + (why == null ? "fits" : why));
      }
      if (!fits) {
        return AccrException.incompatible("npu: no npu of %s can take npu %d (chip %s, %d bytes"
            + " in use)%s", targetName, n.device().getNpuId(), n.device().getNpuChip(),
            n.allocatedBytes(), targets.isEmpty() ? ": it has no npus"
                : ": " + String.join("; ", reasons));
      }
    }
    return AccrException.incompatible("npu: %s has too few npus for the %d the image used",
        targetName, image.size());
  }

  private static List<String> differences(Device from, Device to) {
    List<String> diffs = new ArrayList<>();
    if (from.getNpuFwVersion() != to.getNpuFwVersion()) {
      diffs.add("npuFwVersion: image=" + from.getNpuFwVersion() + " target="
          + to.getNpuFwVersion());
    }
    if (from.getNpuMemoryBytes() != to.getNpuMemoryBytes()) {
      diffs.add("npuMemoryBytes: image=" + from.getNpuMemoryBytes() + " target="
          + to.getNpuMemoryBytes());
    }
    if (from.getNpuCores() != to.getNpuCores()) {
      diffs.add("npuCores: image=" + from.getNpuCores() + " target=" + to.getNpuCores());
    }
    return diffs;
  }
}

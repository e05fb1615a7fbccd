package dev.accr.kfd.plugin;

import dev.accr.api.AccrException;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.proto.Device;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Chooses a distinct target GPU for each GPU of an image. Besides the per-GPU checks of
 * {@link GpuChecks}: GPUs of one hive land in one hive and an XGMI link stays XGMI; GPUs that
 * reached each other still do; GPUs that shared a NUMA node still share one (relaxable as
 * {@code numa}); forced pairs ({@code --device-map}) are taken as given and checked the same.
 *
 * <p>The search backtracks over image GPUs in id order; each tries candidates closest first
 * (same id, fewest differing properties, nearest VRAM size, then topology order), so the result
 * is deterministic and a larger target gives the closest subset. Interchangeable target GPUs
 * ({@link TargetGpus#twinClass}) are tried once per level unless pairs are forced, which keeps
 * 16-GPU searches in milliseconds. When nothing fits, the error names the image GPU that could not be placed at
 * the deepest point the search reached and, per reason, the candidates it ruled out.
 */
final class GpuMapper {
  /** Past this many placements the search gives up and says so. */
  static final int STEP_LIMIT = 1_000_000;

  private final ImageGpus image;
  private final TargetGpus target;
  private final MappingPolicy policy;
  private final String targetName;
  private final String[][] blockers; // [image gpu][target gpu], null when it fits
  private final int[] chosen;
  private final boolean[] taken;
  private int deepest = -1;
  private Map<String, List<String>> deepestReasons = Map.of();
  private int steps;

  private GpuMapper(ImageGpus image, Topology target, MappingPolicy policy) {
    this.image = image;
    this.target = new TargetGpus(target);
    this.policy = policy;
    this.targetName = target.getName().isEmpty() ? "the target" : target.getName();
    this.blockers = new String[image.size()][this.target.size()];
    this.chosen = new int[image.size()];
    this.taken = new boolean[this.target.size()];
    for (int i = 0; i < image.size(); i++) {
      for (int t = 0; t < this.target.size(); t++) {
        blockers[i][t] = GpuChecks.blocker(image.get(i), image.isas(), this.target.get(t),
            policy);
      }
    }
  }

  /**
   * The pairs, in image id order.
   *
   * @throws AccrException exit code 4 naming the GPU that could not be placed and why
   */
  static List<DevicePair> map(ImageGpus image, Topology target, MappingPolicy policy) {
    GpuMapper m = new GpuMapper(image, target, policy);
    m.checkCounts();
    if (!m.place(0)) {
      throw m.failure();
    }
    List<DevicePair> pairs = new ArrayList<>();
    for (int i = 0; i < image.size(); i++) {
      Device s = image.get(i).device();
      Device t = m.target.get(m.chosen[i]);
      pairs.add(new DevicePair("kfd", image.get(i).id(), s.getNode(), t.getGpuId(), t.getNode(),
          GpuChecks.differences(s, t)));
    }
    return pairs;
  }

  /** Fails early when the target has too few GPUs, or no hive large enough. */
  private void checkCounts() {
    if (image.size() > target.size()) {
      throw AccrException.incompatible("kfd: the image has %d GPUs; %s has %d", image.size(),
          targetName, target.size());
    }
    for (int i = 0; i < image.size(); i++) {
      if (image.hiveSize(i) > target.largestHive()) {
        throw AccrException.incompatible("kfd: cannot place gpu 0x%x of the image on %s: its"
            + " XGMI hive has %d GPUs; %s", image.get(i).id(), targetName, image.hiveSize(i),
            target.largestHive() == 1
                ? targetName + " has no XGMI links (an XGMI link may not become PCIe)"
                : "the largest hive of " + targetName + " has " + target.largestHive());
      }
    }
  }

  private boolean place(int i) {
    if (i == image.size()) {
      return true;
    }
    if (++steps > STEP_LIMIT) {
      throw AccrException.incompatible("kfd: no mapping onto %s found within %d steps; force"
          + " part of it with --device-map", targetName, STEP_LIMIT);
    }
    Map<String, List<String>> reasons = new LinkedHashMap<>();
    List<Integer> triedClasses = new ArrayList<>();
    for (int t : candidates(i)) {
      String why = taken[t] ? "taken by another GPU of the image" : blockers[i][t];
      if (why == null) {
        why = pairBlocker(i, t);
      }
      if (why != null) {
        reasons.computeIfAbsent(why, k -> new ArrayList<>())
            .add(String.format("0x%x", target.get(t).getGpuId()));
        continue;
      }
      if (policy.forced().isEmpty() && triedClasses.contains(target.twinClass(t))) {
        continue; // a twin of a GPU that already failed here would fail the same way
      }
      triedClasses.add(target.twinClass(t));
      chosen[i] = t;
      taken[t] = true;
      if (place(i + 1)) {
        return true;
      }
      taken[t] = false;
    }
    if (i > deepest && !reasons.isEmpty()) {
      deepest = i;
      deepestReasons = reasons;
    }
    return false;
  }

  /** The target GPUs to try for image GPU {@code i}: the forced one, or all, closest first. */
  private List<Integer> candidates(int i) {
    OptionalInt forced = policy.forcedTarget(image.get(i).id());
    List<Integer> all = new ArrayList<>();
    for (int t = 0; t < target.size(); t++) {
      if (forced.isEmpty() || target.get(t).getGpuId() == forced.getAsInt()) {
        all.add(t);
      }
    }
    if (forced.isPresent() && all.isEmpty()) {
      throw AccrException.incompatible("kfd: --device-map 0x%x=0x%x: %s has no GPU 0x%x",
          image.get(i).id(), forced.getAsInt(), targetName, forced.getAsInt());
    }
    Device s = image.get(i).device();
    all.sort(Comparator.<Integer>comparingInt(t -> target.get(t).getGpuId() == s.getGpuId() ? 0 : 1)
        .thenComparingInt(t -> GpuChecks.differences(s, target.get(t)).size())
        .thenComparingLong(t -> Math.abs(target.get(t).getVramBytes() - s.getVramBytes()))
        .thenComparingInt(t -> t));
    return all;
  }

  /** Why target {@code t} cannot take image GPU {@code i} given the GPUs placed before it. */
  private String pairBlocker(int i, int t) {
    for (int j = 0; j < i; j++) {
      int u = chosen[j];
      String other = String.format("0x%x (which takes gpu 0x%x of the image)",
          target.get(u).getGpuId(), image.get(j).id());
      if (image.sameHive(i, j) && !target.sameHive(t, u)) {
        return "not in the XGMI hive of " + other;
      }
      if ((image.xgmi(i, j) || image.xgmi(j, i)) && !(target.xgmi(t, u) && target.xgmi(u, t))) {
        return "no XGMI link to " + other;
      }
      if (image.peers(i, j) && !target.reaches(t, u)) {
        return "no link to " + other + " for peer access";
      }
      if (image.peers(j, i) && !target.reaches(u, t)) {
        return "no link from " + other + " for peer access";
      }
      if (!policy.relaxes("numa") && image.get(i).device().getNumaNode()
          == image.get(j).device().getNumaNode()
          && target.get(t).getNumaNode() != target.get(u).getNumaNode()) {
        return "NUMA node " + target.get(t).getNumaNode() + " differs from that of " + other
            + " (--relax numa allows it)";
      }
    }
    return null;
  }

  private AccrException failure() {
    int i = Math.max(deepest, 0);
    List<String> parts = new ArrayList<>();
    deepestReasons.forEach((why, gpus) -> parts.add(String.join(", ", gpus) + ": " + why));
    return AccrException.incompatible("kfd: cannot place gpu 0x%x (%s) of the image on %s: %s",
        image.get(i).id(), GfxTarget.name(image.get(i).device().getGfxTargetVersion()),
        targetName, parts.isEmpty() ? "it has no kfd GPUs" : String.join("; ", parts));
  }
}

package dev.accr.kfd.plugin;

import dev.accr.api.MappingPolicy;
import dev.accr.api.Sizes;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.proto.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.function.BiPredicate;

/**
 * Whether one GPU of an image may take one GPU of a target, property by property, after the
 * checks of CRIU's amdgpu plugin: vendor, wavefront size and LDS size always equal; the ISA one
 * the program has code for (a chip of the same ISA must have the same shape: device id, SIMD
 * and CU counts); and, each relaxable by name, VRAM size (image <= target), capability,
 * firmware versions (image <= target) and caches count. The VRAM the process holds must fit
 * whatever is relaxed. NUMA grouping and links concern pairs and are checked by the mapper.
 */
final class GpuChecks {
  /** The check names {@code --relax} takes. */
  static final Set<String> RELAXABLE = Set.of("vram", "capability", "fw", "caches", "numa");

  private GpuChecks() {}

  /** Why image GPU {@code s} cannot take target GPU {@code t}, or null if it can. */
  static String blocker(ImageGpus.ImageGpu s, SortedSet<Integer> isas, Device t,
      MappingPolicy policy) {
    Device d = s.device();
    String exact = firstDifference(d, t, "vendorId", "wavefrontSize", "ldsSizeKib");
    if (exact != null) {
      return exact;
    }
    if (d.getGfxTargetVersion() != t.getGfxTargetVersion()) {
      if (!isas.contains(t.getGfxTargetVersion())) {
        return String.format("gfxTargetVersion: image=%s target=%s (the program has no code"
            + " object for %s)", shown("gfxTargetVersion", d.getGfxTargetVersion()),
            shown("gfxTargetVersion", t.getGfxTargetVersion()),
            GfxTarget.name(t.getGfxTargetVersion()));
      }
    } else {
      String shape = firstDifference(d, t, "deviceId", "simdCount", "cuCount");
      if (shape != null) {
        return shape;
      }
    }
    if (s.vramInUse() > t.getVramBytes()) {
      return String.format("vram in use: image=%d MiB target holds %d MiB", s.vramInUse() >> 20,
          t.getVramBytes() >> 20);
    }
    if (s.visibleInUse() > t.getVramVisibleBytes()) {
      return String.format("CPU-visible vram in use: image=%d MiB target window %d MiB",
          s.visibleInUse() >> 20, t.getVramVisibleBytes() >> 20);
    }
    if (!policy.relaxes("vram") && d.getVramBytes() > t.getVramBytes()) {
      return relaxable("vramBytes", d.getVramBytes(), t.getVramBytes(), "smaller", "vram");
    }
    if (!policy.relaxes("capability") && d.getCapability() != t.getCapability()) {
      return relaxable("capability", d.getCapability(), t.getCapability(), "different",
          "capability");
    }
    if (!policy.relaxes("fw")) {
      if (d.getFwVersion() > t.getFwVersion()) {
        return relaxable("fwVersion", d.getFwVersion(), t.getFwVersion(), "older", "fw");
      }
      if (d.getSdmaFwVersion() > t.getSdmaFwVersion()) {
        return relaxable("sdmaFwVersion", d.getSdmaFwVersion(), t.getSdmaFwVersion(), "older",
            "fw");
      }
    }
    if (!policy.relaxes("caches") && d.getCachesCount() != t.getCachesCount()) {
      return relaxable("cachesCount", d.getCachesCount(), t.getCachesCount(), "different",
          "caches");
    }
    return null;
  }

  /** Every property but the ids in which the two differ, as {@code name: image=X target=Y}. */
  static List<String> differences(Device image, Device target) {
    List<String> out = new ArrayList<>();
    for (var f : Device.getDescriptor().getFields()) {
      String name = f.getJsonName();
      if (name.equals("gpuId") || name.equals("node")) {
        continue;
      }
      Object a = image.getField(f);
      Object b = target.getField(f);
      if (!a.equals(b)) {
        out.add(name + ": image=" + shown(name, a) + " target=" + shown(name, b));
      }
    }
    return out;
  }

  /** Whether two GPUs differ in nothing but their ids, topology node and render minor. */
  static boolean sameExceptIdentity(Device a, Device b) {
    return identityCleared(a).equals(identityCleared(b));
  }

  /**
   * The connected components of {@code n} items under {@code joined}: each item's smallest
   * connected index (used for XGMI hives).
   */
  static int[] components(int n, BiPredicate<Integer, Integer> joined) {
    int[] c = new int[n];
    for (int i = 0; i < n; i++) {
      c[i] = i;
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          if (c[j] < c[i] && joined.test(i, j)) {
            c[i] = c[j];
            changed = true;
          }
        }
      }
    }
    return c;
  }

  private static String relaxable(String name, long image, long target, String how,
      String check) {
    return String.format("%s: image=%s target=%s (%s; --relax %s allows it)", name,
        shown(name, image), shown(name, target), how, check);
  }

  /**
   * A property as people read it: an ISA by its gfx name with the number, memory sizes in
   * GiB or MiB, PCI ids in hex; other values as they are.
   */
  static String shown(String name, Object value) {
    long v = value instanceof Number n ? n.longValue() : 0;
    return switch (name) {
      case "gfxTargetVersion" -> GfxTarget.name((int) v) + " (" + v + ")";
      case "vramBytes", "vramVisibleBytes" -> Sizes.capacity(v);
      case "vendorId", "deviceId" -> "0x" + Long.toHexString(v);
      default -> String.valueOf(value);
    };
  }

  private static String firstDifference(Device a, Device b, String... names) {
    for (String name : names) {
      var f = Device.getDescriptor().findFieldByName(snake(name));
      Object x = a.getField(f);
      Object y = b.getField(f);
      if (!x.equals(y)) {
        return name + ": image=" + shown(name, x) + " target=" + shown(name, y);
      }
    }
    return null;
  }

  private static String snake(String camel) {
    return camel.replaceAll("([A-Z])", "_$1").toLowerCase();
  }

  private static Device identityCleared(Device d) {
    return d.toBuilder().clearGpuId().clearNode().clearDrmRenderMinor().build();
  }
}

package dev.accr.api;

import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the user asked of a device mapping on restore: pairs forced with
 * {@code --device-map OLD=NEW} (ids as the image knows them, to ids of the target), and checks
 * relaxed with {@code --relax NAME,...}. Forced pairs are still checked like any other; a
 * plugin maps the ids of its own devices and the host fails the restore if a forced id matched
 * no device of the image. Immutable.
 */
public final class MappingPolicy {
  /** No forced pairs, every check strict. */
  public static final MappingPolicy STRICT = new MappingPolicy(Map.of(), Set.of());

  private final Map<Integer, Integer> forced;
  private final Set<String> relaxed;

  private MappingPolicy(Map<Integer, Integer> forced, Set<String> relaxed) {
    this.forced = forced;
    this.relaxed = relaxed;
  }

  /** A policy with these forced pairs (image id to target id) and relaxed check names. */
  public static MappingPolicy of(Map<Integer, Integer> forced, Set<String> relaxed) {
    return new MappingPolicy(Map.copyOf(forced), Set.copyOf(relaxed));
  }

  /** The target id forced for the device the image knows as {@code imageId}, if any. */
  public OptionalInt forcedTarget(int imageId) {
    Integer t = forced.get(imageId);
    return t == null ? OptionalInt.empty() : OptionalInt.of(t);
  }

  /** Every forced pair, image id to target id, in image id order. */
  public Map<Integer, Integer> forced() {
    return new TreeMap<>(forced);
  }

  /** Whether the check {@code name} (e.g. {@code vram}) was relaxed. */
  public boolean relaxes(String name) {
    return relaxed.contains(name);
  }

  /** The relaxed check names, sorted. */
  public Set<String> relaxed() {
    return new TreeSet<>(relaxed);
  }

  @Override
  public String toString() {
    return "MappingPolicy[forced=" + forced() + ", relaxed=" + relaxed() + "]";
  }
}

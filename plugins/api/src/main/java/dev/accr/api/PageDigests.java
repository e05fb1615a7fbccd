package dev.accr.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pages compared by content, for {@code accr diff}: a digest of each stored page by address,
 * and the pages of a range counted as changed, added, removed or the same between two
 * checkpoints. The core uses it for host memory; plugins for device memory (API version 4).
 */
public final class PageDigests {
  private PageDigests() {}

  /**
   * Pages of a range in two checkpoints: stored in both with other contents, stored only in
   * the later one (zero or untouched before), stored only in the earlier one, and the same.
   */
  public record Counts(long changed, long added, long removed, long same) {}

  /** A 64-bit digest of one page's contents (the first 8 bytes of its SHA-256). */
  public static long digest(MemorySegment page) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(page.asByteBuffer());
      return MemorySegment.ofArray(sha.digest()).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * The digest of every page of a bulk file, by chunk key plus offset in the chunk; every
   * chunk's checksum is verified as it is read.
   */
  public static NavigableMap<Long, Long> of(BulkReader reader) {
    Map<Long, Long> out = new ConcurrentHashMap<>();
    reader.forEach(1, (key, data) -> {
      for (long at = 0; at < data.byteSize(); at += MemoryView.PAGE_SIZE) {
        out.put(key + at, digest(data.asSlice(at,
            Math.min(MemoryView.PAGE_SIZE, data.byteSize() - at))));
      }
    });
    return new TreeMap<>(out);
  }

  /** The pages of {@code [start, end)} in {@code before} and {@code after}, compared. */
  public static Counts compare(NavigableMap<Long, Long> before, NavigableMap<Long, Long> after,
      long start, long end) {
    NavigableMap<Long, Long> a = before.subMap(start, true, end, false);
    NavigableMap<Long, Long> b = after.subMap(start, true, end, false);
    long changed = 0;
    long removed = 0;
    long same = 0;
    for (var e : a.entrySet()) {
      Long other = b.get(e.getKey());
      if (other == null) {
        removed++;
      } else if (other.equals(e.getValue())) {
        same++;
      } else {
        changed++;
      }
    }
    long added = b.keySet().stream().filter(page -> !a.containsKey(page)).count();
    return new Counts(changed, added, removed, same);
  }
}

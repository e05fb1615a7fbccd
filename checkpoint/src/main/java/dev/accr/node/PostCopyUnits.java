package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.PageSource;
import dev.accr.proto.PostCopyFile;
import dev.accr.proto.PostCopyIndex;
import dev.accr.proto.PostCopyUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The units a post-copy source serves, numbered as its index lists them: the host units first
 * (a tree's processes each with a range of them, together), then the chunks of every bulk
 * file. A malformed index is a usage error: the target refuses the migration.
 */
final class PostCopyUnits {
  /** A served bulk file: its chunks are units {@code first} on, found by chunk key. */
  record FileUnits(PostCopyFile file, int first, Map<Long, Integer> byKey) {}

  private final int pid;
  private final List<List<PageSource.Run>> hostUnits = new ArrayList<>();
  /** pid -> {first host unit, count}. */
  private final Map<Integer, int[]> unitsOfPid = new HashMap<>();
  /** plugin/what/id -> the file and its first unit. */
  private final Map<String, FileUnits> files = new HashMap<>();
  private final Set<String> servedPlugins = new HashSet<>();
  private final int count;

  PostCopyUnits(PostCopyIndex index) {
    this.pid = index.getPid();
    for (PostCopyUnit u : index.getHostUnitsList()) {
      if (u.getVaddrCount() != u.getPagesCount()) {
        throw AccrException.usage("post-copy index: a unit's runs do not pair up");
      }
      List<PageSource.Run> runs = new ArrayList<>();
      for (int i = 0; i < u.getVaddrCount(); i++) {
        if (u.getPages(i) <= 0 || u.getPages(i) > PageFrames.MAX_UNIT / 4096) {
          throw AccrException.usage("post-copy index: a run of %d pages", u.getPages(i));
        }
        runs.add(new PageSource.Run(u.getVaddr(i), u.getPages(i)));
      }
      int owner = u.getPid() == 0 ? pid : u.getPid();
      int[] range = unitsOfPid.computeIfAbsent(owner, k -> new int[] {hostUnits.size(), 0});
      if (range[0] + range[1] != hostUnits.size()) {
        throw AccrException.usage("post-copy index: the units of process %d are not together",
            owner);
      }
      range[1]++;
      hostUnits.add(runs);
    }
    int next = hostUnits.size();
    if (index.getEagerUnits() > next) {
      throw AccrException.usage("post-copy index: %d eager units of %d", index.getEagerUnits(),
          next);
    }
    int previous = index.getEagerUnits() - 1;
    for (int u : index.getMoreEagerUnitsList()) {
      if (u <= previous || u >= next) {
        throw AccrException.usage("post-copy index: eager unit %d after %d, of %d",
            Integer.toUnsignedLong(u), previous, next);
      }
      previous = u;
    }
    for (PostCopyFile f : index.getFilesList()) {
      if (f.getKeysCount() != f.getLengthsCount()) {
        throw AccrException.usage("post-copy index: a file's chunks do not pair up");
      }
      Map<Long, Integer> byKey = new HashMap<>();
      for (int i = 0; i < f.getKeysCount(); i++) {
        byKey.put(f.getKeys(i), i);
      }
      files.put(f.getPlugin() + "/" + f.getWhat() + "/" + f.getId(), new FileUnits(f, next, byKey));
      servedPlugins.add(f.getPlugin());
      next += f.getKeysCount();
    }
    this.count = next;
  }

  /** Units in all, host and bulk. */
  int count() {
    return count;
  }

  /** Whether the source serves the host pages of process {@code p}. */
  boolean serves(int p) {
    return p == pid || unitsOfPid.containsKey(p);
  }

  /** The number of process {@code p}'s first host unit. */
  int firstOf(int p) {
    return unitsOfPid.getOrDefault(p, new int[] {0, 0})[0];
  }

  /** Process {@code p}'s host units (all of them for a lone process), in order. */
  List<List<PageSource.Run>> hostUnitsOf(int p) {
    int[] range = unitsOfPid.getOrDefault(p, new int[] {0, 0});
    return hostUnits.subList(range[0], range[0] + range[1]);
  }

  /** The served bulk file, or null. */
  FileUnits file(String plugin, String what, long id) {
    return files.get(plugin + "/" + what + "/" + id);
  }

  /** Whether {@code plugin} serves its memory (possibly with no bulk file at all). */
  boolean servesPlugin(String plugin) {
    return servedPlugins.contains(plugin);
  }
}
